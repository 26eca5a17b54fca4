// Checks a token against the server and remembers url + token for later commands.
import { ApiClient } from '../client';
import { normaliseUrl, readConfigFile, writeConfigFile, DEFAULT_URL } from '../config';
import { CliError, EXIT } from '../exit-codes';
import type { CommandContext } from '../context';
import { emit } from '../io';

const ME = `{ me { anonymous operator user { name } defaultLab { id name } labs { role lab { name } } } }`;

/** Who the token belongs to: `me` where the server has it, else a query anyone may run. */
async function identify(client: ApiClient): Promise<Record<string, unknown>> {
  const probe = await client.raw(ME);
  const noMe = probe.errors?.some((e) => /Cannot query field "me"/.test(e.message));
  if (!noMe) {
    const { me } = await client.request(ME);
    if (me?.anonymous) throw new CliError('The server treated this token as anonymous; check the token', EXIT.AUTH, 'UNAUTHENTICATED');
    return me;
  }
  const { serviceInfo } = await client.request(`{ serviceInfo { version profile } }`);
  return { serviceInfo };
}

function describe(identity: Record<string, any>): string {
  if (!identity.user) return '';
  const labs = (identity.labs ?? []).map((m: any) => `${m.lab.name} (${m.role.toLowerCase()})`).join(', ');
  return ` as ${identity.user.name}${identity.operator ? ' (operator)' : ''}${labs ? `, member of ${labs}` : ''}`;
}

export async function login(ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const saved = await readConfigFile(io.env);
  const url = normaliseUrl(ctx.opts.url || io.env.BRAINALIGN_URL || saved.url || DEFAULT_URL);
  const token = ctx.opts.token || io.env.BRAINALIGN_TOKEN;
  if (!token) throw new CliError('login needs --token <token> (or BRAINALIGN_TOKEN); an admin creates one with createApiToken', EXIT.USAGE);
  const identity = await identify(new ApiClient({ url, token }));
  const file = await writeConfigFile(io.env, { url, token });
  emit(io, ctx.opts, { url, config: file, identity }, () => `Logged in to ${url}${describe(identity)}; settings saved in ${file}`);
  return EXIT.OK;
}
