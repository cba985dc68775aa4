import { handle, type Context } from '@fnts/fdk';

interface Item {
  name: string;
}

/**
 * A small REST-style endpoint behind an HTTP trigger: POST creates an item (201 + Location),
 * GET lists, anything else is 405. Status and headers reach the HTTP client through the FDK.
 * `fnts invoke` (POST /invoke/{id}) reaches it too: such a call has no end user's HTTP request,
 * so `httpGateway.method` is null, and it is taken as the POST it was.
 */
handle(async (input: Item | '', ctx: Context) => {
  const http = ctx.httpGateway;
  const method = http.method ?? 'POST';
  ctx.setResponseHeader('X-Request-Method', method);
  switch (method) {
    case 'POST': {
      if (typeof input !== 'object' || !input.name) {
        http.statusCode = 400;
        return { error: 'send a JSON body like {"name":"pen"}' };
      }
      http.statusCode = 201;
      ctx.setResponseHeader('Location', `/items/${encodeURIComponent(input.name)}`);
      return { created: input.name };
    }
    case 'GET':
      return { items: ['pen', 'paper'], query: new URL(http.requestURL ?? 'http://x/').searchParams.get('q') };
    default:
      http.statusCode = 405;
      ctx.setResponseHeader('Allow', 'GET, POST');
      ctx.responseContentType = 'text/plain';
      return `method ${method} not allowed\n`;
  }
});
