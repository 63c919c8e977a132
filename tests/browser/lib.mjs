// Shared helpers for the browser tests: headless Chromium through
// playwright-core, `deal` run as a child process, loopback only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEAL = process.env.DEAL_BIN || path.join(ROOT, 'target', 'debug', 'deal');
export const SHOTS = path.join(ROOT, 'target', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const REFERENCE = path.join(ROOT, 'contracts', 'microsoft_openai.deal');
export const REFERENCE_EVENTS = path.join(ROOT, 'contracts', 'microsoft_openai.events.jsonl');

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

/** Runs `deal` to completion; returns { code, stdout, stderr }. */
export function deal(args, input) {
  const r = spawnSync(DEAL, args, { cwd: ROOT, input: input ?? '', encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A port nobody listens on, on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `deal serve` on a free port and waits until it answers. */
export async function serve(args = []) {
  const port = await freePort();
  const child = spawn(DEAL, ['serve', '--port', String(port), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' },
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`deal serve exited ${child.exitCode}: ${log}`);
    try {
      const r = await fetch(url + 'health');
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`deal serve did not answer: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, port, child, log: () => log,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 3000).unref();
    }),
  };
}

/** Every request a page makes that is not to `allowed` (a URL prefix) or inline. */
export function watchNetwork(page, allowed) {
  const outside = [];
  page.on('request', (req) => {
    const u = req.url();
    if (u.startsWith('data:') || u.startsWith('about:') || (allowed && u.startsWith(allowed))) return;
    outside.push(u);
  });
  return outside;
}

export function watchConsole(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

export function haveBrowser() {
  return existsSync(CHROMIUM) && existsSync(DEAL);
}
