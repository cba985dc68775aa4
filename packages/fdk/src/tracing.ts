// B3 trace propagation (https://github.com/openzipkin/b3-propagation) as a function
// sees it. The Fn server passes the caller's headers through on /invoke, but on an
// HTTP trigger every end-user header arrives as `Fn-Http-H-<Name>`, where fdk-node's
// tracingContext never looks; so the FDK reads the plain headers first and the
// trigger-prefixed ones second.
import type { HeaderMap } from './headers.js';
import { HTTP_HEADER_PREFIX } from '@fnts/api/contract';

/** The caller's trace position, from the B3 headers; every id is null when absent. */
export interface Tracing {
  /** `X-B3-TraceId`: 16 or 32 lower-hex characters. */
  readonly traceId: string | null;
  /** `X-B3-SpanId` of the caller's span. */
  readonly spanId: string | null;
  /** `X-B3-ParentSpanId`. */
  readonly parentSpanId: string | null;
  /** True when the caller sampled the trace (`X-B3-Sampled: 1` or `true`) or forced it with `X-B3-Flags: 1` (debug). */
  readonly sampled: boolean;
  /** `X-B3-Flags` (`'1'` means debug), or null. */
  readonly flags: string | null;
  /** `<appName>::<fnName>` lowercased (fdk-node's service name); undefined unless both names are known. */
  readonly serviceName: string | undefined;
}

// Canonical forms, as collectRequestHeaders stores them.
const B3 = {
  traceId: 'X-B3-Traceid',
  spanId: 'X-B3-Spanid',
  parentSpanId: 'X-B3-Parentspanid',
  sampled: 'X-B3-Sampled',
  flags: 'X-B3-Flags',
  single: 'B3',
} as const;

interface B3Fields {
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  sampled: string | null;
  flags: string | null;
}

/**
 * The call's tracing facts. One source is used as a whole — plain headers if any B3
 * header is there, otherwise the trigger-prefixed ones — so ids of two different
 * traces are never mixed.
 */
export function readTracing(headers: HeaderMap, names: { appName?: string | undefined; fnName?: string | undefined }): Tracing {
  const fields = readB3(headers, '') ?? readB3(headers, HTTP_HEADER_PREFIX) ?? EMPTY;
  const { appName, fnName } = names;
  return Object.freeze({
    traceId: fields.traceId,
    spanId: fields.spanId,
    parentSpanId: fields.parentSpanId,
    sampled: isSampled(fields),
    flags: fields.flags,
    serviceName: appName && fnName ? `${appName}::${fnName}`.toLowerCase() : undefined,
  });
}

const EMPTY: B3Fields = { traceId: null, spanId: null, parentSpanId: null, sampled: null, flags: null };

function readB3(headers: HeaderMap, prefix: string): B3Fields | null {
  const get = (name: string): string | null => {
    const value = headers.get(prefix + name)?.[0]?.trim();
    return value === undefined || value === '' ? null : value;
  };
  const multi: B3Fields = {
    traceId: get(B3.traceId),
    spanId: get(B3.spanId),
    parentSpanId: get(B3.parentSpanId),
    sampled: get(B3.sampled),
    flags: get(B3.flags),
  };
  if (Object.values(multi).some((value) => value !== null)) return multi;
  const single = get(B3.single);
  return single === null ? null : parseSingleB3(single);
}

/**
 * The single-header form `b3: {traceId}-{spanId}[-{sampling}[-{parentSpanId}]]`, or
 * just `{sampling}`; sampling `d` means debug, which B3 carries as flags 1.
 */
function parseSingleB3(value: string): B3Fields {
  const parts = value.split('-');
  if (parts.length === 1) return { ...EMPTY, ...samplingFields(parts[0]) };
  const [traceId, spanId, sampling, parentSpanId] = parts;
  return {
    traceId: traceId || null,
    spanId: spanId || null,
    parentSpanId: parentSpanId || null,
    ...samplingFields(sampling),
  };
}

function samplingFields(sampling: string | undefined): Pick<B3Fields, 'sampled' | 'flags'> {
  if (sampling === 'd') return { sampled: null, flags: '1' };
  return { sampled: sampling || null, flags: null };
}

function isSampled(fields: B3Fields): boolean {
  const sampled = fields.sampled?.toLowerCase();
  return sampled === '1' || sampled === 'true' || fields.flags === '1';
}
