import { handle } from '@fnts/fdk';

// Called once per request; the return value is sent back as JSON. GREETING comes from func.yaml's config.
handle(async (input, ctx) => ({ message: `${ctx.getConfig('GREETING') ?? 'Hello'} ${input?.name ?? 'World'}` }));
