import type OpenAI from 'openai';
import { and, eq } from 'drizzle-orm';
import { guidedDecodingFields } from '../core/chat-request.js';
import type { PoolConfig, SchemaMode } from '../core/registry.js';
import { publicEndpoint } from '../core/registry.js';
import type { Db } from '../db/client.js';
import { endpointProbes } from '../db/schema.js';
import type { ChatClient } from './model.js';

export interface ProbeResult {
  declaredMode: SchemaMode;
  effectiveMode: SchemaMode;
  schemaEnforced: boolean;
  detail: string;
}

const PROBE_SCHEMA = {
  type: 'object',
  properties: { word: { type: 'string', enum: ['alpha', 'beta'] } },
  required: ['word'],
  additionalProperties: false,
};

/**
 * Asks the endpoint for something its schema forbids, in the field the pool's kind sends it in: an
 * endpoint that enforces the schema answers "alpha" or "beta"; one that silently ignores the field
 * follows the prompt and says "gamma".
 */
export async function probeEndpoint(client: ChatClient, pool: PoolConfig): Promise<ProbeResult> {
  if (pool.schemaMode !== 'json_schema') {
    return { declaredMode: pool.schemaMode, effectiveMode: pool.schemaMode, schemaEnforced: false, detail: 'no guided decoding declared; not probed' };
  }
  const guided = guidedDecodingFields(pool.kind, 'json_schema', { name: 'probe', schema: PROBE_SCHEMA });
  const res = (await client.chat.completions.create({
    model: pool.model,
    messages: [
      { role: 'system', content: 'Reply with JSON only.' },
      { role: 'user', content: 'Return exactly this JSON and nothing else: {"word": "gamma"}' },
    ],
    max_tokens: 20,
    temperature: 0,
    ...guided,
  } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming)) as OpenAI.Chat.Completions.ChatCompletion;
  const text = res.choices[0]?.message?.content ?? '';
  let word: unknown;
  try {
    word = (JSON.parse(text) as { word?: unknown }).word;
  } catch {
    word = undefined;
  }
  const enforced = word === 'alpha' || word === 'beta';
  return {
    declaredMode: 'json_schema',
    effectiveMode: enforced ? 'json_schema' : 'prompt',
    schemaEnforced: enforced,
    detail: enforced
      ? `schema held the answer to ${JSON.stringify(word)} against the prompt`
      : `${Object.keys(guided).join(', ')} was ignored (answer ${JSON.stringify(text.slice(0, 80))}); the schema goes into the prompt and the output is parsed leniently`,
  };
}

/** The recorded probe of this endpoint, model and kind (the request field the schema went in), or a new probe recorded now. */
export async function probeOnce(db: Db, client: ChatClient, pool: PoolConfig, log: (line: string) => void = () => undefined): Promise<ProbeResult> {
  const endpoint = publicEndpoint(pool.baseUrl);
  const found = await db
    .select()
    .from(endpointProbes)
    .where(and(eq(endpointProbes.endpoint, endpoint), eq(endpointProbes.model, pool.model), eq(endpointProbes.kind, pool.kind), eq(endpointProbes.declaredMode, pool.schemaMode)));
  if (found[0]) {
    const f = found[0];
    return { declaredMode: pool.schemaMode, effectiveMode: f.effectiveMode as SchemaMode, schemaEnforced: f.schemaEnforced, detail: f.detail };
  }
  const result = await probeEndpoint(client, pool);
  log(`probed ${endpoint} (${pool.model}, ${pool.kind}): ${result.detail}`);
  await db
    .insert(endpointProbes)
    .values({ endpoint, model: pool.model, kind: pool.kind, declaredMode: pool.schemaMode, schemaEnforced: result.schemaEnforced, effectiveMode: result.effectiveMode, detail: result.detail })
    .onConflictDoNothing();
  return result;
}
