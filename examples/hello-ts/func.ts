import { handle } from '@fnts/fdk';

interface Input {
  name?: string;
}

// Called once per request; the return value is sent back as JSON.
handle(async (input: Input) => ({ message: `Hello ${input?.name ?? 'World'}` }));
