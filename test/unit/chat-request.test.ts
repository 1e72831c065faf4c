import { describe, expect, it } from 'vitest';
import type { ChatClient } from '../../activities/model.js';
import { probeEndpoint } from '../../activities/probe.js';
import { chatRequestBody, guidedDecodingFields } from '../../core/chat-request.js';
import { EndpointKind, PoolConfig, type SchemaMode } from '../../core/registry.js';

const schema = { type: 'object', properties: { category: { type: 'string', enum: ['billing', 'shipping'] } }, required: ['category'], additionalProperties: false };
const request = {
  schemaName: 'classify_ticket',
  jsonSchema: schema,
  messages: [
    { role: 'system' as const, content: 'Classify the ticket.' },
    { role: 'user' as const, content: 'Where is my parcel?' },
  ],
};
const pool = (kind: EndpointKind, schemaMode: SchemaMode = 'json_schema') => ({ model: 'qwen-7b', kind, schemaMode });
const body = (kind: EndpointKind, schemaMode?: SchemaMode) => chatRequestBody(pool(kind, schemaMode), request, { maxTokens: 300, temperature: 0 });

describe('the request body of a model call', () => {
  it('asks vLLM for the schema in structured_outputs', () => {
    expect(body('vllm')).toEqual({ model: 'qwen-7b', messages: request.messages, max_tokens: 300, temperature: 0, structured_outputs: { json: schema } });
  });

  it("asks llama.cpp's server for the schema in its top-level json_schema field", () => {
    expect(body('llamacpp')).toEqual({ model: 'qwen-7b', messages: request.messages, max_tokens: 300, temperature: 0, json_schema: schema });
  });

  it("asks Ollama's and OpenAI's endpoints for the schema in response_format", () => {
    for (const kind of ['ollama', 'openai'] as const) {
      expect(body(kind)).toEqual({
        model: 'qwen-7b',
        messages: request.messages,
        max_tokens: 300,
        temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'classify_ticket', schema, strict: true } },
      });
    }
  });

  it('carries the schema in one field only, whatever the kind', () => {
    for (const kind of EndpointKind.options) {
      const fields = Object.keys(guidedDecodingFields(kind, 'json_schema', { name: 'x', schema }));
      expect(fields, kind).toHaveLength(1);
    }
  });

  it('puts the schema in the prompt and asks for JSON by response_format in json_object mode', () => {
    for (const kind of EndpointKind.options) {
      const b = body(kind, 'json_object');
      expect(b, kind).toMatchObject({ response_format: { type: 'json_object' } });
      expect(b).not.toHaveProperty('structured_outputs');
      expect(b).not.toHaveProperty('json_schema');
      expect(b.messages[0]!.content).toBe(`Classify the ticket.\nThe JSON must match this JSON schema:\n${JSON.stringify(schema)}`);
      expect(b.messages[1]).toEqual(request.messages[1]);
    }
  });

  it('asks for no guided decoding in prompt mode, with the schema in the prompt', () => {
    const b = body('vllm', 'prompt');
    expect(Object.keys(b).sort()).toEqual(['max_tokens', 'messages', 'model', 'temperature']);
    expect(b.messages[0]!.content).toContain('The JSON must match this JSON schema');
  });

  it('leaves the messages as built in json_schema mode', () => {
    expect(body('openai').messages).toEqual(request.messages);
  });
});

describe('the registry kind', () => {
  it('defaults to openai, the response_format most OpenAI-compatible servers read', () => {
    const p = PoolConfig.parse({ baseUrl: 'http://gpu-1:8000/v1', model: 'm', contextWindow: 4096, price: { version: 'v', inputPerMTok: 1, outputPerMTok: 1 } });
    expect(p.kind).toBe('openai');
  });

  it('refuses a kind that picks no request shape', () => {
    expect(PoolConfig.safeParse({ baseUrl: 'http://gpu-1:8000/v1', model: 'm', kind: 'other', contextWindow: 4096, price: { version: 'v', inputPerMTok: 1, outputPerMTok: 1 } }).success).toBe(false);
  });
});

/** A client that records what it was sent and answers with `content`. */
function fakeClient(content: string): { client: ChatClient; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const create = (async (params: Record<string, unknown>) => {
    sent.push(params);
    return { id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] };
  }) as unknown as ChatClient['chat']['completions']['create'];
  return { client: { chat: { completions: { create } } }, sent };
}

describe('the probe of guided decoding', () => {
  const probePool = (kind: EndpointKind) =>
    PoolConfig.parse({ baseUrl: 'http://gpu-1:8000/v1', model: 'm', kind, contextWindow: 4096, price: { version: 'v', inputPerMTok: 1, outputPerMTok: 1 } });

  it('sends its schema in the field the pool kind uses for calls', async () => {
    for (const [kind, field] of [['vllm', 'structured_outputs'], ['llamacpp', 'json_schema'], ['ollama', 'response_format'], ['openai', 'response_format']] as const) {
      const { client, sent } = fakeClient('{"word": "alpha"}');
      const result = await probeEndpoint(client, probePool(kind));
      expect(sent[0], kind).toHaveProperty(field);
      expect(result).toMatchObject({ schemaEnforced: true, effectiveMode: 'json_schema' });
    }
  });

  it('falls back to the schema in the prompt when the endpoint ignores the field, and names it', async () => {
    const { client } = fakeClient('{"word": "gamma"}');
    const result = await probeEndpoint(client, probePool('vllm'));
    expect(result).toMatchObject({ schemaEnforced: false, effectiveMode: 'prompt' });
    expect(result.detail).toMatch(/^structured_outputs was ignored/);
  });
});
