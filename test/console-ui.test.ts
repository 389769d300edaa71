/**
 * The console in a real headless Chromium (Debian's chromium + playwright-core), as a person uses
 * it: type a seed query and run it with Ctrl-Enter, see rows and the histogram, zoom by dragging
 * across the histogram, open a row, use autocomplete (commands and discovered fields), see an error
 * underlined at its line/column, save a query and find it after a reload, chart a stats query, and
 * do it all from the keyboard. Each state is written as a screenshot under docs/images/ (shown in
 * docs/console.md).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/console/server.js';
import { launchChromium, screenshotDir } from './infra/chromium.js';
import { AWS_AUTH_QUERY, expectedAwsAuth, makeFixture, T0, writeArchive } from './query-fixtures.js';

/** What the page callbacks touch (they run in the browser; this file is typechecked without the DOM lib). */
interface Dom {
  innerText: string;
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  classList: { contains(name: string): boolean };
  selectedOptions: ArrayLike<Dom>;
  querySelectorAll(selector: string): Iterable<Dom>;
}
declare const document: {
  querySelector(selector: string): Dom | null;
  activeElement: Dom | null;
  documentElement: Dom;
};

const root = new URL('..', import.meta.url).pathname;
const images = screenshotDir();
const fx = makeFixture();
let dir: string;
let build: string;
let c: RunningConsole;
let browser: Browser;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(images, `console-${name}.png`) });
}

/** Replaces the editor's text by typing it (Escape before each newline closes autocomplete). */
async function typeQuery(text: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    await page.keyboard.type(lines[i] as string);
    await page.keyboard.press('Escape');
    if (i < lines.length - 1) await page.keyboard.press('Enter');
  }
}

async function editorText(): Promise<string> {
  return page.$eval('.cm-content', (el) =>
    [...el.querySelectorAll('.cm-line')].map((l) => (l as unknown as Dom).innerText).join('\n'),
  );
}

async function runAndWait(): Promise<void> {
  const before = await page.$eval('body', (b) => b.dataset.runs ?? '0').catch(() => '0');
  void before;
  await page.click('.cm-content');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('button.primary', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=result-footer], [data-testid=query-error]', { timeout: 30_000 });
}

beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'lf-console-ui-'));
  build = mkdtempSync(join(root, 'build', 'console-ui-'));
  const { buildWeb } = (await import(join(root, 'scripts', 'build-web.mjs'))) as {
    buildWeb: (root: string, dist: string) => Promise<void>;
  };
  await buildWeb(root, build);
  await writeArchive(join(dir, 'archive'), fx.records);
  c = await startConsole({
    from: join(dir, 'archive'),
    queriesDir: join(dir, 'queries'),
    assetsDir: join(build, 'console'),
    threads: 0,
    now: () => T0 + 4 * 3_600_000,
  });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (build) rmSync(build, { recursive: true, force: true });
});

beforeEach(async () => {
  await page?.close();
  const ctx = browser.contexts()[0] ?? (await browser.newContext());
  page = await ctx.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(c.url);
  await page.waitForSelector('.cm-content');
  expect(errors).toEqual([]);
});

describe('the console in a browser', () => {
  it('runs a seed query with Ctrl-Enter and shows its rows and the histogram', async () => {
    await typeQuery(AWS_AUTH_QUERY);
    expect((await editorText()).replace(/\s+/g, ' ').trim()).toBe(AWS_AUTH_QUERY.replace(/\s+/g, ' ').trim());
    await runAndWait();
    const rows = await page.$$('table.results tbody tr.row');
    expect(rows.length).toBe(expectedAwsAuth(fx).length);
    const header = await page.$$eval('table.results thead th', (ths) =>
      ths.map((t) => t.textContent?.trim()),
    );
    expect(header).toContain('verb');
    expect(header).toContain('user.username');
    const total = await page.$eval('[data-testid=histogram]', (el) =>
      Number((el as unknown as Dom).dataset.total),
    );
    expect(total).toBe(expectedAwsAuth(fx).length);
    expect(await page.$('[data-testid=histogram] canvas')).not.toBeNull();
    await shot('results');
  });

  it('zooms into the time range dragged across the histogram', async () => {
    await typeQuery('fields @timestamp, @message | sort @timestamp desc');
    await runAndWait();
    const before = await page.$eval('[data-testid=histogram]', (el) =>
      Number((el as unknown as Dom).dataset.total),
    );
    expect(before).toBe(fx.records.length);
    const over = await page.$('[data-testid=histogram] .u-over');
    const box = await over?.boundingBox();
    if (!box) throw new Error('no histogram plot area');
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(
      (n) => {
        const el = document.querySelector('[data-testid=histogram]') as unknown as Dom | null;
        return el && Number(el.dataset.total) < n && document.querySelector('button.primary');
      },
      before,
      { timeout: 30_000 },
    );
    const after = await page.$eval('[data-testid=histogram]', (el) =>
      Number((el as unknown as Dom).dataset.total),
    );
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(before);
    const label = await page.$eval(
      'select[aria-label="time range"]',
      (s) => (s as unknown as Dom).selectedOptions[0]?.textContent,
    );
    expect(label).toMatch(/UTC/);
    await shot('zoomed');
  });

  it('opens a row as a tree and offers it as JSON', async () => {
    await typeQuery(
      'fields @timestamp, verb, objectRef.resource, @message | filter ispresent(verb) | limit 5',
    );
    await runAndWait();
    await page.click('table.results tbody tr.row button.expand');
    await page.waitForSelector('[data-testid=row-tree]');
    // The whole event, by the row's @ptr: fields the query did not display are there too.
    await page.waitForFunction(
      () =>
        /whole event/.test(document.querySelector('[data-testid=row-detail-kind]')?.textContent ?? '') &&
        /@logStream/.test(document.querySelector('[data-testid=row-tree]')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
    const tree = await page.$eval('[data-testid=row-tree]', (el) => (el as unknown as Dom).innerText);
    expect(tree).toMatch(/@logStream/);
    expect(tree).toMatch(/@timestamp\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/);
    // @message is JSON in audit events: it opens as a tree with the event's own keys.
    expect(tree).toMatch(/requestURI/);
    expect(tree).toMatch(/verb/);
    expect(await page.$('tr.detail button')).not.toBeNull();
    await shot('row');
  });

  it('autocompletes commands after a pipe and the fields discovered in the data', async () => {
    await typeQuery('filter verb = "delete"');
    await page.keyboard.press('Enter');
    await page.keyboard.type('| so');
    await page.waitForSelector('.cm-tooltip-autocomplete');
    const cmds = await page.$$eval('.cm-tooltip-autocomplete li', (lis) =>
      lis.map((l) => l.textContent ?? ''),
    );
    expect(cmds.some((t) => t.startsWith('sort'))).toBe(true);
    await shot('autocomplete');
    await page.keyboard.press('Enter');
    await page.keyboard.type('objectRef.res');
    await page.waitForSelector('.cm-tooltip-autocomplete');
    const fields = await page.$$eval('.cm-tooltip-autocomplete li', (lis) =>
      lis.map((l) => l.textContent ?? ''),
    );
    expect(fields.some((t) => t.startsWith('objectRef.resource'))).toBe(true);
    await page.keyboard.press('Enter');
    expect(await editorText()).toMatch(/\| sort objectRef\.resource/);
  });

  it('underlines an error at its line and column and lists it after a run', async () => {
    await typeQuery('fields @timestamp\n| filter verb = \n| limit 5');
    await page.waitForSelector('.cm-lintRange-error', { timeout: 10_000 });
    await runAndWait();
    const err = await page.$eval('[data-testid=query-error]', (el) => (el as unknown as Dom).innerText);
    expect(err).toMatch(/line 2, column \d+/);
    await page.hover('.cm-lintRange-error');
    await page.waitForSelector('.cm-tooltip-lint', { timeout: 5_000 }).catch(() => undefined);
    await shot('error');
  });

  it('saves a query to the queries folder and lists it again after a reload', async () => {
    const q = 'filter verb = "delete" | stats count(*) by objectRef.resource';
    await typeQuery(q);
    await page.click('button:has-text("Save")');
    await page.fill('form[aria-label="save query"] input[name=name]', 'deletes-by-resource');
    await page.fill('form[aria-label="save query"] input[name=description]', 'who deleted what');
    await page.click('form[aria-label="save query"] button[type=submit]');
    await page.waitForSelector('ul.saved button.link:has-text("deletes-by-resource")');
    await page.reload();
    await page.waitForSelector('ul.saved button.link:has-text("deletes-by-resource")');
    await typeQuery('limit 1');
    await page.click('ul.saved button.link:has-text("deletes-by-resource")');
    expect((await editorText()).trim()).toBe(q);
    await shot('saved');
  });

  it('charts a stats … by bin() result as bars or lines', async () => {
    await typeQuery('stats count(*) as events by bin(15m)');
    await runAndWait();
    await page.waitForSelector('[data-testid=stats-chart] canvas');
    expect(await page.$eval('[data-testid=stats-chart]', (el) => (el as unknown as Dom).dataset.series)).toBe(
      '1',
    );
    const sum = await page.$$eval('table.results tbody tr.row', (trs) =>
      trs.reduce((n, tr) => n + Number(tr.querySelectorAll('td')[3]?.textContent ?? 0), 0),
    );
    expect(sum).toBe(fx.records.length);
    await page.click('button[aria-pressed]:has-text("Line")');
    await shot('stats');
  });

  it('fills a recipe parameter form and runs the expanded query', async () => {
    await page.click('button.link:has-text("pod-deletes")');
    await page.fill('form[aria-label="parameters of eks/pod-deletes"] input[name=namespace]', 'Bad Name');
    expect(await page.$('form[aria-label="parameters of eks/pod-deletes"] small.bad')).not.toBeNull();
    await page.fill('form[aria-label="parameters of eks/pod-deletes"] input[name=namespace]', 'default');
    await page.click('form[aria-label="parameters of eks/pod-deletes"] button[type=submit]');
    // The expansion is a server round trip: wait for the editor to hold the expanded query.
    await page.waitForFunction(() =>
      /namespace == "default"/.test(document.querySelector('.cm-content')?.textContent ?? ''),
    );
    expect(await editorText()).toMatch(/objectRef\.namespace == "default"/);
    await runAndWait();
    expect(await page.$('[data-testid=query-error]')).toBeNull();
  });

  it('works from the keyboard alone, in the dark theme too', async () => {
    await page.selectOption('select[aria-label=theme]', 'dark');
    await page.focus('.cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('fields @timestamp, verb | filter ispresent(verb) | limit 3');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=result-footer]');
    // Tab from the editor reaches the first row's expand button; Enter opens it.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.classList.contains('expand') ?? false);
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=row-tree]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await shot('dark');
  });
});
