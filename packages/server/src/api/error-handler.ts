import { HEADER } from '@fnts/api/contract';
import { ERROR_CODE } from '@fnts/api/errors';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errors, isFntsError } from '../errors.js';

/**
 * The one mapping from a thrown error to an answer: platform errors carry their status and code; fastify's own
 * (validation, JSON parsing, body size, other 4xx) get the registry's codes with Fn's messages; anything else is
 * a fault of the server, logged and answered 500 without its details.
 */
export function answerError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  // A call's failure names the call (its Fn-Call-Id, set once the call got an id), so its record and output are found.
  const callId = reply.getHeader(HEADER.callId);
  const call = typeof callId === 'string' ? { call_id: callId } : {};
  if (isFntsError(err)) {
    const detail = err.detail === undefined ? {} : { detail: err.detail };
    return reply.code(err.status).headers(err.headers).send({ message: err.message, code: err.code, ...detail, ...call });
  }
  if (err.validation || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply.code(400).send({ message: 'Invalid JSON', code: ERROR_CODE.invalidJson, detail: err.message });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const tooLarge = errors.payloadTooLarge('request body is too large for the API (1 MiB at most)');
    return reply.code(tooLarge.status).send({ message: tooLarge.message, code: tooLarge.code });
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return reply.code(err.statusCode).send({ message: err.message, code: err.code ?? ERROR_CODE.badRequest });
  }
  req.log.error({ err }, 'unhandled error');
  const internal = errors.internal();
  return reply.code(internal.status).send({ message: internal.message, code: internal.code, ...call });
}
