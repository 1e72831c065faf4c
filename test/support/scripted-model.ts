/**
 * A scripted OpenAI-compatible chat endpoint on loopback, for what a real model cannot be made
 * to do on demand: malformed JSON, truncation, 500, 429, hangs. Replies are queued per JSON
 * schema name (the micro-task's format name, or `<format>_repair` for a targeted repair).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedReply =
  | { content: string; finishReason?: 'stop' | 'length'; usage?: { prompt: number; completion: number } | null; delayMs?: number; pace?: Pace | null }
  | { status: number; message?: string; headers?: Record<string, string>; delayMs?: number }
  /** answers nothing for `hangMs` (then 504); `afterHeaders`: sends a 200's headers first, then nothing, then resets */
  | { hangMs: number; afterHeaders?: boolean }
  /** the connection is reset: before any response, or after a 200's headers and the first part of its body */
  | { reset: 'before-headers' | 'after-headers'; delayMs?: number }
  /** a 200 whose body is empty (zero length), whether or not the request asked to stream */
  | { emptyBody: true }
  | StreamFault;

/**
 * A streamed answer that misbehaves (for a request that asked to stream; any other gets a 500):
 * `content` in chunks of `chunkChars`, `chunkDelayMs` apart; with `stopAfter`, the stream ends
 * after that many content chunks with no finish reason and no [DONE], closed cleanly (`stopBy`
 * `end`, the default) or by a connection reset (`reset`).
 */
export interface StreamFault {
  streamed: string;
  chunkChars?: number;
  chunkDelayMs?: number;
  stopAfter?: number;
  stopBy?: 'end' | 'reset';
  finishReason?: 'stop' | 'length';
}

/** A reply, or a function of the request that gives one (it may wait: the request waits with it). */
export type Responder = ScriptedReply | ((body: ChatBody) => ScriptedReply | Promise<ScriptedReply>);

/**
 * How a streamed reply arrives, as from a real server under load: the first token after
 * `firstTokenMs`, then `tokensPerSecond`, one chunk of `charsPerToken` characters (default 4, the
 * tokens `usage` counts) a token. `jitter` (0 to 0.9, default 0) spreads each reply's first-token
 * wait and its rate, and every gap between two tokens, uniformly by that share either way. Tokens
 * that fall due while the event loop was busy go out together in one write. Only streamed replies
 * are paced; a reply's own `pace` (null: none) overrides the server's.
 */
export interface Pace {
  firstTokenMs: number;
  tokensPerSecond: number;
  jitter?: number;
  charsPerToken?: number;
}

export interface ScriptedModelOptions {
  /** the pace of every streamed reply that does not set its own */
  pace?: Pace;
  /** draws the jitter (default Math.random) */
  random?: () => number;
}

export interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  max_tokens?: number;
  response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
  [k: string]: unknown;
}

export interface ReceivedRequest {
  format: string;
  body: ChatBody;
}

export class ScriptedModelServer {
  private readonly queues = new Map<string, Responder[]>();
  private readonly fallbacks = new Map<string, Responder>();
  readonly received: ReceivedRequest[] = [];
  private server: http.Server | undefined;
  baseUrl = '';
  pace: Pace | undefined;
  private readonly random: () => number;

  constructor(opts: ScriptedModelOptions = {}) {
    this.pace = opts.pace;
    this.random = opts.random ?? Math.random;
  }

  /** Queues replies for one schema name, used in order. */
  script(format: string, ...replies: Responder[]): this {
    this.queues.set(format, [...(this.queues.get(format) ?? []), ...replies]);
    return this;
  }

  /** The reply for a schema name once its queue is empty. */
  otherwise(format: string, reply: Responder): this {
    this.fallbacks.set(format, reply);
    return this;
  }

  reset(): void {
    this.queues.clear();
    this.fallbacks.clear();
    this.received.length = 0;
  }

  requestsFor(format: string): ChatBody[] {
    return this.received.filter((r) => r.format === format).map((r) => r.body);
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private next(format: string): Responder | undefined {
    const q = this.queues.get(format);
    if (q && q.length > 0) return q.shift();
    return this.fallbacks.get(format) ?? this.fallbacks.get('*');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url?.endsWith('/models')) return send(200, { object: 'list', data: [{ id: 'scripted', object: 'model' }] });
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return send(404, { error: { message: `no route ${req.method} ${req.url}` } });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
    const format = body.response_format?.json_schema?.name ?? '*';
    this.received.push({ format, body });
    const responder = this.next(format);
    if (!responder) return send(500, { error: { message: `no scripted reply for "${format}"` } });
    const reply = typeof responder === 'function' ? await responder(body) : responder;
    if ('hangMs' in reply) {
      if (reply.afterHeaders) res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' }).flushHeaders();
      await new Promise((r) => setTimeout(r, reply.hangMs));
      if (reply.afterHeaders) return void res.destroy();
      return send(504, { error: { message: 'scripted hang ended' } });
    }
    if ('emptyBody' in reply) {
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json', 'content-length': '0' });
      return void res.end();
    }
    if ('streamed' in reply) return this.streamFault(body, res, reply);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if ('reset' in reply) return this.resetConnection(body, res, reply.reset);
    if ('status' in reply) return send(reply.status, { error: { message: reply.message ?? `scripted ${reply.status}` } }, reply.headers);
    const usage =
      reply.usage === null
        ? undefined
        : {
            prompt_tokens: reply.usage?.prompt ?? Math.ceil(JSON.stringify(body.messages).length / 4),
            completion_tokens: reply.usage?.completion ?? Math.ceil(reply.content.length / 4),
            total_tokens: 0,
          };
    if (usage) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    if (body.stream) {
      // server-sent events: the content in a few chunks, then the finish reason, then usage if asked
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const base = { id: `chatcmpl-${this.received.length}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
      const pace = reply.pace === null ? undefined : (reply.pace ?? this.pace);
      const chunk = (part: string) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: part }, finish_reason: null }] })}\n\n`;
      if (pace) {
        if (!(await this.paced(res, reply.content, pace, chunk))) return;
      } else {
        const parts = reply.content.match(/[\s\S]{1,16}/g) ?? [];
        for (const part of parts) res.write(chunk(part));
      }
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: reply.finishReason ?? 'stop' }] })}\n\n`);
      const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      if (usage && wantsUsage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    send(200, {
      id: `chatcmpl-${this.received.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: reply.finishReason ?? 'stop' }],
      ...(usage ? { usage } : {}),
    });
  }

  /** Resets the connection: before any byte of the response, or after a 200's headers and the first bytes of its body. */
  private resetConnection(body: ChatBody, res: http.ServerResponse, when: 'before-headers' | 'after-headers'): void {
    if (when === 'before-headers') return void res.socket?.resetAndDestroy();
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunkOf(body, `chatcmpl-${this.received.length}`, { content: '{"' }, null))}\n\n`, () => resetSoon(res));
    } else {
      // a length the body never reaches: the client is mid-body when the connection goes
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"id": "chatcmpl-reset", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"fea', () => resetSoon(res));
    }
  }

  private async streamFault(body: ChatBody, res: http.ServerResponse, reply: StreamFault): Promise<void> {
    if (!body.stream) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: 'scripted stream fault for a request that did not ask to stream' } }));
    }
    const id = `chatcmpl-${this.received.length}`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const parts = reply.streamed.match(new RegExp(`[\\s\\S]{1,${reply.chunkChars ?? 16}}`, 'g')) ?? [];
    for (const [i, part] of parts.entries()) {
      if (reply.stopAfter !== undefined && i >= reply.stopAfter) break;
      if (i > 0 && reply.chunkDelayMs) await new Promise((r) => setTimeout(r, reply.chunkDelayMs));
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chunkOf(body, id, { content: part }, null))}\n\n`);
    }
    if (reply.stopAfter !== undefined) {
      if (reply.stopBy === 'reset') res.write('', () => resetSoon(res));
      else res.end();
      return;
    }
    res.write(`data: ${JSON.stringify(chunkOf(body, id, {}, reply.finishReason ?? 'stop'))}\n\n`);
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) {
      const usage = { prompt_tokens: Math.ceil(JSON.stringify(body.messages).length / 4), completion_tokens: Math.ceil(reply.streamed.length / 4) };
      res.write(`data: ${JSON.stringify({ ...chunkOf(body, id, {}, null), choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  /** Writes the content a token at a time at the pace; false when the client went away first (a stopped generation). */
  private async paced(res: http.ServerResponse, content: string, pace: Pace, chunk: (part: string) => string): Promise<boolean> {
    const size = Math.max(1, Math.round(pace.charsPerToken ?? 4));
    const tokens = content.match(new RegExp(`[\\s\\S]{1,${size}}`, 'gu')) ?? [];
    const jitter = Math.min(0.9, Math.max(0, pace.jitter ?? 0));
    const spread = () => 1 + jitter * (2 * this.random() - 1);
    const gapMs = 1000 / (pace.tokensPerSecond * spread());
    let due = performance.now() + pace.firstTokenMs * spread();
    let gone = false;
    res.once('close', () => (gone = true));
    for (let i = 0; i < tokens.length; ) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (gone || res.destroyed) return false;
      let out = '';
      const now = performance.now();
      while (i < tokens.length && due <= now) {
        out += chunk(tokens[i++]!);
        due += gapMs * spread();
      }
      res.write(out);
    }
    return !gone && !res.destroyed;
  }
}


function chunkOf(body: ChatBody, id: string, delta: { content?: string }, finishReason: string | null) {
  return { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** A reset a moment after the last write, so the bytes written reach the client before the RST does. */
function resetSoon(res: http.ServerResponse): void {
  setTimeout(() => res.socket?.resetAndDestroy(), 50);
}
