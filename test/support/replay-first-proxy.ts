/**
 * A loopback OpenAI-compatible proxy in front of the real model servers, for replaying recorded
 * failures: once armed for a pool, the next chat completion on that pool is answered with a
 * recorded output (its usage and finish reason, as server-sent events when the request streams,
 * in the same form as the scripted endpoint), and every other request (the workers' start-up
 * probe, every later rung) goes to the pool's real server unchanged, its answer piped back as it
 * comes, so what they cost is what the server reports.
 *
 * Pool `p` is served under `<origin>/p`: `<origin>/p/chat/completions` goes to `<upstream of p>/chat/completions`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedReply {
  content: string;
  /** as recorded; `runaway` (the worker stopped a looping stream) is replayed as `length` */
  finishReason: string;
  /** null: the recorded call had no usage from the server, so none is sent */
  usage: { prompt: number; completion: number } | null;
  model: string;
}

export interface ProxiedRequest {
  pool: string;
  path: string;
  /** the response_format's schema name, `probe` for the workers' start-up probe */
  format: string | undefined;
  replayed: boolean;
  status: number;
  ms: number;
}

const SERVER_FINISH = new Set(['stop', 'length', 'content_filter', 'tool_calls', 'function_call']);

export class ReplayFirstProxy {
  private server: http.Server | undefined;
  private readonly armed = new Map<string, RecordedReply>();
  private readonly agent = new http.Agent({ keepAlive: true });
  readonly requests: ProxiedRequest[] = [];
  origin = '';

  /** @param upstreams pool name -> the base URL of its real server, e.g. `http://127.0.0.1:8088/v1` */
  constructor(private readonly upstreams: Readonly<Record<string, string>>) {
    for (const pool of Object.keys(upstreams)) if (!/^[a-z][a-z0-9-]*$/.test(pool)) throw new Error(`not a pool name: ${pool}`);
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `replay proxy: ${err instanceof Error ? err.message : String(err)}` } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.origin;
  }

  /** The base URL a pool's client is given. */
  baseUrlOf(pool: string): string {
    if (!(pool in this.upstreams)) throw new Error(`the proxy has no pool ${pool}`);
    return `${this.origin}/${pool}`;
  }

  /** The next chat completion on `pool`, other than the start-up probe, is answered with `reply`. */
  arm(pool: string, reply: RecordedReply): void {
    if (!(pool in this.upstreams)) throw new Error(`the proxy has no pool ${pool}`);
    this.armed.clear();
    this.armed.set(pool, reply);
  }

  /** Disarms; true when the armed reply was never used. */
  disarm(): boolean {
    const unused = this.armed.size > 0;
    this.armed.clear();
    return unused;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, pool = '', ...rest] = url.pathname.split('/');
    const upstream = this.upstreams[pool];
    if (upstream === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no pool "${pool}" on this proxy` } }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = `/${rest.join('/')}`;
    let format: string | undefined;
    let parsed: Record<string, unknown> | undefined;
    if (req.method === 'POST' && path.endsWith('/chat/completions')) {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      format = (parsed.response_format as { json_schema?: { name?: string } } | undefined)?.json_schema?.name;
    }
    const note = (replayed: boolean, status: number) => this.requests.push({ pool, path, format, replayed, status, ms: Math.round(performance.now() - started) });

    const reply = this.armed.get(pool);
    if (parsed && reply && format !== 'probe') {
      this.armed.delete(pool);
      this.replay(parsed, reply, res);
      note(true, 200);
      return;
    }
    const target = new URL(`${upstream.replace(/\/$/, '')}${path}${url.search}`);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const up = http.request(target, { method: req.method ?? 'GET', headers, agent: this.agent });
    await new Promise<void>((resolve) => {
      res.on('close', () => {
        // a client that stops reading (a looping generation cut short) stops the server's generation too
        if (!res.writableFinished) up.destroy();
        resolve();
      });
      up.on('response', (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (err) => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `replay proxy: upstream ${target.origin}: ${err.message}` } }));
      });
      up.end(body);
    });
    note(false, res.statusCode);
  }

  private replay(body: Record<string, unknown>, reply: RecordedReply, res: http.ServerResponse): void {
    const finishReason = SERVER_FINISH.has(reply.finishReason) ? reply.finishReason : reply.finishReason === 'runaway' ? 'length' : 'stop';
    const usage = reply.usage ? { prompt_tokens: reply.usage.prompt, completion_tokens: reply.usage.completion, total_tokens: reply.usage.prompt + reply.usage.completion } : undefined;
    const id = `chatcmpl-replay-${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const base = { id, object: 'chat.completion.chunk', created, model: reply.model };
      for (const part of reply.content.match(/[\s\S]{1,16}/g) ?? []) {
        res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: part }, finish_reason: null }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] })}\n\n`);
      const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      if (usage && wantsUsage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: reply.model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      }),
    );
  }
}
