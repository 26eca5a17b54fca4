// What every command action receives: its surroundings, the global options and an API client.
import { ApiClient } from './client';
import { resolveConfig } from './config';
import type { CliIo, GlobalOptions } from './io';

export interface CommandContext {
  io: CliIo;
  opts: GlobalOptions;
  client(): Promise<ApiClient>;
}

export function commandContext(io: CliIo, opts: GlobalOptions): CommandContext {
  return { io, opts, client: async () => new ApiClient(await resolveConfig(io, opts)) };
}
