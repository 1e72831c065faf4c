/** The chat completion request a pool's endpoint gets: its guided decoding in the field its server reads. */
import type { EndpointKind, PoolConfig, SchemaMode } from './registry.js';

/** A JSON schema for the output, and the name OpenAI's `response_format` gives it. */
export interface OutputFormat {
  name: string;
  schema: Record<string, unknown>;
}

/** The request fields that ask for guided decoding, by the field each server reads. */
export type GuidedDecodingFields =
  | { response_format: { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict: true } } }
  | { response_format: { type: 'json_object' } }
  | { structured_outputs: { json: Record<string, unknown> } }
  | { json_schema: Record<string, unknown> }
  | { response_format?: never; structured_outputs?: never; json_schema?: never };

/**
 * The fields a chat completion request adds so that an endpoint of this kind holds the output to
 * the format. `json_schema` mode asks in the endpoint's own field: vLLM's `structured_outputs`
 * (0.10.2 and later; the `guided_json` it replaced is ignored since 0.12), llama.cpp server's
 * top-level `json_schema`, OpenAI's `response_format`, which Ollama's /v1 endpoint reads into its
 * native `format`. `json_object` mode asks any of them for JSON by `response_format` and puts the
 * schema in the prompt; `prompt` mode asks for nothing.
 */
export function guidedDecodingFields(kind: EndpointKind, mode: SchemaMode, format: OutputFormat): GuidedDecodingFields {
  if (mode === 'prompt') return {};
  if (mode === 'json_object') return { response_format: { type: 'json_object' } };
  switch (kind) {
    case 'vllm':
      return { structured_outputs: { json: format.schema } };
    case 'llamacpp':
      return { json_schema: format.schema };
    case 'ollama':
    case 'openai':
      return { response_format: { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: true } } };
  }
}

/** What one model call asks (core/request.ts builds it): the messages, and the output's JSON schema with its name. */
export interface CallRequest<M extends { content: string }> {
  messages: readonly M[];
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

export type ChatRequestBody<M> = {
  model: string;
  messages: M[];
  max_tokens: number;
  temperature: number;
} & GuidedDecodingFields;

/** The schema in the prompt, for an endpoint not asked to hold the output to it. */
function schemaInPrompt<M extends { content: string }>(messages: readonly M[], schema: Record<string, unknown>): M[] {
  const note = `The JSON must match this JSON schema:\n${JSON.stringify(schema)}`;
  const [first, ...rest] = messages;
  return first ? [{ ...first, content: `${first.content}\n${note}` }, ...rest] : rest;
}

/** The body of one model call to a pool: the request's messages, and its schema as the pool's kind and schema mode take it. */
export function chatRequestBody<M extends { content: string }>(
  pool: Pick<PoolConfig, 'model' | 'kind' | 'schemaMode'>,
  request: CallRequest<M>,
  o: { maxTokens: number; temperature: number },
): ChatRequestBody<M> {
  return {
    model: pool.model,
    messages: pool.schemaMode === 'json_schema' ? [...request.messages] : schemaInPrompt(request.messages, request.jsonSchema),
    max_tokens: o.maxTokens,
    temperature: o.temperature,
    ...guidedDecodingFields(pool.kind, pool.schemaMode, { name: request.schemaName, schema: request.jsonSchema }),
  };
}
