import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScriptedModelServer } from '../support/scripted-model.js';

/** Streams one completion from the server; the arrival time of each content chunk, from the request. */
async function stream(server: ScriptedModelServer): Promise<{ chunks: string[]; at: number[]; finish: string | null; usage: unknown }> {
  const started = performance.now();
  const res = await fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }),
  });
  const chunks: string[] = [];
  const at: number[] = [];
  let finish: string | null = null;
  let usage: unknown;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end).replace(/^data: /, '');
      buffer = buffer.slice(end + 2);
      if (event === '[DONE]') continue;
      const data = JSON.parse(event) as { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown };
      const content = data.choices[0]?.delta.content;
      if (content) {
        chunks.push(content);
        at.push(performance.now() - started);
      }
      finish = data.choices[0]?.finish_reason ?? finish;
      if (data.usage) usage = data.usage;
    }
  }
  return { chunks, at, finish, usage };
}

describe('the scripted endpoint streams at a pace', () => {
  const server = new ScriptedModelServer({ pace: { firstTokenMs: 150, tokensPerSecond: 50 } });
  beforeAll(async () => {
    await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => server.reset());

  it('sends the first token after the first-token wait, then a token of four characters at the rate', async () => {
    server.otherwise('*', { content: 'abcdefghijklmnopqrstuvwxyz0123456789ABCD' });
    const { chunks, at, finish, usage } = await stream(server);
    expect(chunks).toEqual(['abcd', 'efgh', 'ijkl', 'mnop', 'qrst', 'uvwx', 'yz01', '2345', '6789', 'ABCD']);
    expect(at[0]!).toBeGreaterThanOrEqual(145);
    // nine gaps of 20 ms after the first token, from the request's start
    expect(at[9]!).toBeGreaterThanOrEqual(320);
    expect(at[9]!).toBeLessThan(900);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 10 });
  });

  it('keeps a jittered pace within its spread', async () => {
    const jittery = new ScriptedModelServer({ pace: { firstTokenMs: 200, tokensPerSecond: 100, jitter: 0.5 }, random: () => 0 });
    await jittery.start();
    try {
      jittery.otherwise('*', { content: 'x'.repeat(44) });
      const { chunks, at } = await stream(jittery);
      expect(chunks).toHaveLength(11);
      // every draw at its lowest, half: the first-token wait 100 ms; the reply's rate half (gaps of 20 ms), each gap half again (10 ms)
      expect(at[0]!).toBeGreaterThanOrEqual(95);
      expect(at[0]!).toBeLessThan(190);
      expect(at[10]!).toBeGreaterThanOrEqual(195);
      expect(at[10]!).toBeLessThan(400);
    } finally {
      await jittery.stop();
    }
  });

  it('a reply may set its own pace or none; without one the chunks are as before', async () => {
    server.script('*', { content: 'x'.repeat(40), pace: null }, { content: 'y'.repeat(8), pace: { firstTokenMs: 0, tokensPerSecond: 1000, charsPerToken: 2 } });
    const unpaced = await stream(server);
    expect(unpaced.chunks).toEqual(['x'.repeat(16), 'x'.repeat(16), 'x'.repeat(8)]);
    expect(unpaced.at[0]!).toBeLessThan(100);
    const own = await stream(server);
    expect(own.chunks).toEqual(['yy', 'yy', 'yy', 'yy']);
    const plain = new ScriptedModelServer();
    await plain.start();
    try {
      plain.otherwise('*', { content: 'z'.repeat(20) });
      expect((await stream(plain)).chunks).toEqual(['z'.repeat(16), 'zzzz']);
    } finally {
      await plain.stop();
    }
  });

  it('stops writing when the client goes away', async () => {
    server.otherwise('*', { content: 'w'.repeat(400) });
    const controller = new AbortController();
    const res = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await new Promise((r) => setTimeout(r, 300));
    // a request after the aborted one is answered: the server did not wedge
    server.otherwise('*', { content: 'ok', pace: null });
    expect((await stream(server)).chunks).toEqual(['ok']);
  });
});
