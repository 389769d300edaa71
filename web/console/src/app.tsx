/**
 * The console page: query editor with time range and run/cancel, scan estimate and progress, the
 * histogram (drag to zoom) or the stats chart, the results table with expandable rows, and a side
 * panel with saved queries (recipes with parameter forms, the user's own, history) and fields.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { EditorView } from '@codemirror/view';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  type Estimate,
  type Field,
  type Language,
  type Problem,
  type Progress,
  type QueryResult,
  type Recipe,
  RequestError,
  type Saved,
  streamQuery,
} from './api.js';
import { drawHistogram, drawStatsChart, pivotStats } from './charts.js';
import { createEditor, setEditorText } from './editor.js';
import { LiveTail, PipelineView } from './live.js';
import {
  fmt,
  fromLocalInput,
  humanBytes,
  humanCount,
  PRESETS,
  type RangeChoice,
  rangeLabel,
  rangeParams,
  toLocalInput,
} from './time.js';

const DEFAULT_QUERY = 'fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 100';
const HISTORY_KEY = 'logferry.console.history';
const THEME_KEY = 'logferry.console.theme';
const MAX_HISTORY = 50;

interface HistoryEntry {
  query: string;
  range: RangeChoice;
  at: number;
}

function loadHistory(): HistoryEntry[] {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as HistoryEntry[];
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A value as an expandable tree (objects, arrays; JSON text in @message is parsed). */
function Tree({ value, name, depth = 0 }: { value: unknown; name?: string; depth?: number }) {
  let v = value;
  if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
    try {
      v = JSON.parse(v);
    } catch {
      // not JSON: shown as text
    }
  }
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    return (
      <details open={depth < 2} class="tree">
        <summary>
          {name !== undefined && <span class="tree-key">{name}</span>}
          <span class="tree-type">{Array.isArray(v) ? `[${entries.length}]` : `{${entries.length}}`}</span>
        </summary>
        <ul>
          {entries.map(([k, x]) => (
            <li key={k}>
              <Tree value={x} name={k} depth={depth + 1} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return (
    <span class="tree-leaf">
      {name !== undefined && <span class="tree-key">{name}</span>}
      <span class={`tree-val tv-${v === null ? 'null' : typeof v}`}>{v === null ? 'null' : String(v)}</span>
    </span>
  );
}

function RecipeForm({ recipe, onUse }: { recipe: Recipe; onUse: (q: string) => void }) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(recipe.params.map((p) => [p.name, p.default ?? ''])),
  );
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const { query } = await api.expandRecipe(recipe.name, values);
      setError('');
      onUse(query);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form class="recipe-form" onSubmit={submit} aria-label={`parameters of ${recipe.name}`}>
      {recipe.params.map((p) => {
        const bad = values[p.name] !== undefined && !new RegExp(p.pattern).test(values[p.name] ?? '');
        return (
          <label key={p.name}>
            <span>
              {p.name}
              {p.default === undefined ? ' *' : ''}
            </span>
            <input
              name={p.name}
              value={values[p.name]}
              placeholder={p.default ?? ''}
              aria-invalid={bad}
              title={p.description}
              onInput={(e) => setValues({ ...values, [p.name]: (e.target as HTMLInputElement).value })}
            />
            <small class={bad ? 'bad' : ''}>{bad ? `expected ${p.expect}` : p.description}</small>
          </label>
        );
      })}
      {error && <p class="error-text">{error}</p>}
      <button type="submit">Use query</button>
    </form>
  );
}

/**
 * An opened row: the whole event (every field of the archive record, fetched by the row's @ptr),
 * or the displayed fields when the row has no pointer (aggregates, OpenSearch) or while it loads.
 */
function RowDetail({
  row,
  fields,
  ptr,
}: {
  row: Record<string, unknown>;
  fields: string[];
  ptr?: string | null;
}) {
  const [whole, setWhole] = useState<Record<string, unknown> | null>(null);
  const [failed, setFailed] = useState('');
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!ptr) return;
    let live = true;
    api
      .record(ptr)
      .then((r) => live && setWhole(r.record))
      .catch((e: unknown) => live && setFailed(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [ptr]);
  const shown: Record<string, unknown> = whole ?? Object.fromEntries(fields.map((f) => [f, row[f]]));
  return (
    <>
      <div class="detail-bar">
        <button
          type="button"
          onClick={async () => {
            if (await copyText(JSON.stringify(shown, null, 2))) setCopied(true);
          }}
        >
          {copied ? 'Copied' : 'Copy as JSON'}
        </button>
        <span class="muted" data-testid="row-detail-kind">
          {whole
            ? `whole event · ${ptr}`
            : ptr && !failed
              ? 'loading the whole event…'
              : failed
                ? `displayed fields (the whole event could not be read: ${failed})`
                : 'displayed fields'}
        </span>
      </div>
      <div class="detail-tree" data-testid="row-tree">
        {Object.entries(shown).map(([f, v]) => (
          <div key={f} class="tree-field">
            <Tree value={v} name={f} />
          </div>
        ))}
      </div>
    </>
  );
}

function ResultsTable({ result }: { result: QueryResult }) {
  const [open, setOpen] = useState<Set<number>>(new Set());
  useEffect(() => setOpen(new Set()), [result]);
  const toggle = (i: number) => {
    const next = new Set(open);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setOpen(next);
  };
  if (result.rows.length === 0) return <p class="empty">No matching records in this time range.</p>;
  return (
    <div class="table-wrap">
      <table class="results" aria-label="query results">
        <thead>
          <tr>
            <th scope="col" class="col-expand">
              <span class="sr-only">expand</span>
            </th>
            <th scope="col" class="col-n">
              #
            </th>
            {result.fields.map((f) => (
              <th scope="col" key={f}>
                {f}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.rows.map((r, i) => {
            const isOpen = open.has(i);
            return [
              <tr key={`r${i}`} class={isOpen ? 'row open' : 'row'}>
                <td class="col-expand">
                  <button
                    type="button"
                    class="expand"
                    aria-expanded={isOpen}
                    aria-label={`${isOpen ? 'collapse' : 'expand'} row ${i + 1}`}
                    onClick={() => toggle(i)}
                  >
                    {isOpen ? '▾' : '▸'}
                  </button>
                </td>
                <td class="col-n">{i + 1}</td>
                {result.fields.map((f) => (
                  <td key={f} title={cellText(r[f])}>
                    {cellText(r[f])}
                  </td>
                ))}
              </tr>,
              isOpen && (
                <tr key={`d${i}`} class="detail">
                  <td colSpan={result.fields.length + 2}>
                    <RowDetail row={r} fields={result.fields} ptr={result.ptrs?.[i]} />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function topValues(result: QueryResult | null): Field[] {
  if (!result || result.aggregates) return [];
  return result.fields.map((name) => {
    const counts = new Map<string, number>();
    let count = 0;
    for (const r of result.rows) {
      const v = r[name];
      if (v === null || v === undefined) continue;
      count++;
      const s = cellText(v).slice(0, 120);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    return {
      name,
      type: result.timeFields.includes(name) ? 'time' : 'value',
      count,
      top: [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([value, n]) => ({ value, count: n })),
    };
  });
}

function quoteField(name: string): string {
  return /^[@A-Za-z_][\w.@]*$/.test(name) ? name : `\`${name}\``;
}

function quoteValue(v: string): string {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Adds `field` to the query's leading `fields` command, or starts the query with one. */
export function addColumn(query: string, field: string): string {
  const m = /^(\s*fields\s+)([^|\n]*)/i.exec(query);
  if (m) {
    const items = m[2]!.split(',').map((s) => s.trim());
    if (items.includes(field)) return query;
    return `${m[1]}${m[2]!.trimEnd()}, ${quoteField(field)}${query.slice(m[0].length)}`;
  }
  return `fields @timestamp, @message, ${quoteField(field)}\n| ${query.trim()}`;
}

function FieldList({
  title,
  fields,
  total,
  onFilter,
  onColumn,
}: {
  title: string;
  fields: Field[];
  total: number;
  onFilter: (f: string, v: string) => void;
  onColumn: (f: string) => void;
}) {
  if (fields.length === 0) return null;
  return (
    <section class="fields" aria-label={title}>
      <h3>{title}</h3>
      <ul>
        {fields.map((f) => (
          <li key={f.name}>
            <details>
              <summary>
                <span class="field-name">{f.name}</span>
                <span class="badge">{f.type}</span>
                {total > 0 && <span class="pct">{Math.round((100 * f.count) / total)}%</span>}
              </summary>
              <div class="field-actions">
                <button type="button" onClick={() => onColumn(f.name)}>
                  Add column
                </button>
              </div>
              <ul class="top-values">
                {f.top.map((t) => (
                  <li key={t.value}>
                    <button
                      type="button"
                      class="value"
                      title={`filter ${f.name} = ${t.value}`}
                      onClick={() => onFilter(f.name, t.value)}
                    >
                      <span class="v">{t.value === '' ? '(empty)' : t.value}</span>
                      <span class="n">{humanCount(t.count)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ProgressBar({
  progress,
  estimate,
  elapsedMs,
}: {
  progress: Progress;
  estimate: Estimate | null;
  elapsedMs: number;
}) {
  const total = progress.objectsListed - progress.objectsPruned;
  const frac = total > 0 ? progress.objectsDone / total : 0;
  const bytesTotal = estimate?.bytes ?? 0;
  const bfrac = bytesTotal > 0 ? Math.min(1, progress.bytesIn / bytesTotal) : frac;
  const remaining = bfrac > 0.02 ? Math.max(0, (elapsedMs / bfrac - elapsedMs) / 1000) : undefined;
  return (
    <div class="progress" role="status" aria-live="polite">
      <progress max={1} value={bfrac} aria-label="scan progress" />
      <span>
        {total > 0 ? `${humanCount(progress.objectsDone)}/${humanCount(total)} objects · ` : ''}
        {humanBytes(progress.bytesIn)} read · {humanCount(progress.recordsScanned)} records ·{' '}
        {humanCount(progress.recordsMatched)} matched
        {progress.objectsPruned ? ` · ${humanCount(progress.objectsPruned)} pruned` : ''}
        {remaining !== undefined ? ` · ~${remaining.toFixed(remaining < 10 ? 1 : 0)} s left` : ''}
      </span>
    </div>
  );
}

function App() {
  const [lang, setLang] = useState<Language | null>(null);
  const [info, setInfo] = useState<{
    from: string;
    version: string;
    queriesDir: string;
    daemon?: string | null;
  } | null>(null);
  const [mode, setMode] = useState<'query' | 'tail' | 'pipeline'>('query');
  const [sample, setSample] = useState<Field[]>([]);
  const [sampled, setSampled] = useState(0);
  const [recipes, setRecipes] = useState<Recipe[]>([]);
  const [saved, setSaved] = useState<Saved[]>([]);
  const [history, setHistory] = useState<HistoryEntry[]>(loadHistory);
  const [range, setRange] = useState<RangeChoice>({ kind: 'all' });
  const [customOpen, setCustomOpen] = useState(false);
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<{ p: Progress; elapsedMs: number } | null>(null);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [error, setError] = useState<{ message: string; problems: Problem[] } | null>(null);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [tab, setTab] = useState<'queries' | 'fields'>('queries');
  const [openRecipe, setOpenRecipe] = useState<string | null>(null);
  const [chartKind, setChartKind] = useState<'bar' | 'line'>('bar');
  const [theme, setTheme] = useState<string>(() => localStorage.getItem(THEME_KEY) ?? 'auto');
  const [saveForm, setSaveForm] = useState<{ name: string; description: string } | null>(null);
  const [notice, setNotice] = useState('');
  const editorHost = useRef<HTMLDivElement>(null);
  const editor = useRef<EditorView | null>(null);
  const queryText = useRef(DEFAULT_QUERY);
  const abort = useRef<AbortController | null>(null);
  const histEl = useRef<HTMLDivElement>(null);
  const chartEl = useRef<HTMLDivElement>(null);
  const sampleRef = useRef<Field[]>([]);
  sampleRef.current = sample;
  const runRef = useRef<() => void>(() => {});

  useEffect(() => {
    // 'auto' follows the system setting; the page itself only ever carries 'light' or 'dark', so
    // the dark palette is written once in the stylesheet.
    const media = matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = theme === 'auto' ? (media.matches ? 'dark' : 'light') : theme;
    };
    apply();
    localStorage.setItem(THEME_KEY, theme);
    if (theme !== 'auto') return;
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);

  useEffect(() => {
    Promise.all([api.language(), api.info(), api.recipes(), api.saved()])
      .then(([l, i, r, s]) => {
        setLang(l);
        setInfo(i);
        setRecipes(r);
        setSaved(s);
      })
      .catch((e) => setError({ message: `cannot reach the console API: ${String(e)}`, problems: [] }));
  }, []);

  useEffect(() => {
    api
      .fields(rangeParams(range))
      .then((f) => {
        setSample(f.fields);
        setSampled(f.sampled);
      })
      .catch(() => setSample([]));
  }, [range]);

  const refreshEstimate = useCallback(() => {
    api
      .estimate(queryText.current, rangeParams(range))
      .then(setEstimate)
      .catch(() => setEstimate(null));
  }, [range]);
  useEffect(refreshEstimate, [refreshEstimate]);
  const estimateTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!lang || !editorHost.current || editor.current) return;
    editor.current = createEditor(editorHost.current, queryText.current, {
      language: lang,
      fields: () => sampleRef.current,
      check: async (text) => {
        const r = await api.check(text).catch(() => ({ problems: [] as Problem[] }));
        return r.problems;
      },
      onRun: () => runRef.current(),
      onChange: (text) => {
        queryText.current = text;
        clearTimeout(estimateTimer.current);
        estimateTimer.current = window.setTimeout(() => refreshEstimate(), 500);
      },
    });
    editor.current.focus();
  }, [lang, refreshEstimate]);

  const setQuery = (q: string) => {
    queryText.current = q;
    if (editor.current) setEditorText(editor.current, q);
    refreshEstimate();
  };

  const run = useCallback(
    async (rangeOverride?: RangeChoice) => {
      abort.current?.abort();
      const ac = new AbortController();
      abort.current = ac;
      const r = rangeOverride ?? range;
      const q = queryText.current;
      setRunning(true);
      setError(null);
      setProgress(null);
      const entry: HistoryEntry = { query: q, range: r, at: Date.now() };
      const nextHistory = [entry, ...history.filter((h) => h.query !== q)].slice(0, MAX_HISTORY);
      setHistory(nextHistory);
      localStorage.setItem(HISTORY_KEY, JSON.stringify(nextHistory));
      try {
        await streamQuery(
          q,
          rangeParams(r),
          (e) => {
            if (e.type === 'progress') setProgress({ p: e.progress, elapsedMs: e.elapsedMs });
            else if (e.type === 'result' || e.type === 'partial') setResult(e);
            else setError({ message: e.error, problems: e.problems ?? [] });
          },
          ac.signal,
        );
      } catch (e) {
        if (!ac.signal.aborted) setError({ message: String(e), problems: [] });
        else setNotice('Query cancelled.');
      } finally {
        if (abort.current === ac) {
          setRunning(false);
          abort.current = null;
        }
      }
    },
    [range, history],
  );
  runRef.current = () => void run();

  const cancel = () => abort.current?.abort();

  useEffect(() => {
    if (!result) return;
    if (!result.aggregates && histEl.current) {
      drawHistogram(histEl.current, result.histogram, result.range, (startMs, endMs) => {
        const next: RangeChoice = { kind: 'absolute', startMs, endMs };
        setRange(next);
        void run(next);
      });
    }
    if (result.aggregates && result.binColumn && chartEl.current) {
      const epochs = result.epochs[result.binColumn] ?? [];
      const { xs, series } = pivotStats(result.fields, result.rows, result.binColumn, epochs);
      if (xs.length > 0 && series.length > 0) drawStatsChart(chartEl.current, xs, series, chartKind);
    }
  }, [result, chartKind]);

  useEffect(() => {
    const t = setTimeout(() => setNotice(''), 4000);
    return () => clearTimeout(t);
  }, [notice]);

  const resultFields = useMemo(() => topValues(result), [result]);

  const addFilter = (f: string, v: string) =>
    setQuery(`${queryText.current.trimEnd()}\n| filter ${quoteField(f)} = ${quoteValue(v)}`);
  const addCol = (f: string) => setQuery(addColumn(queryText.current, f));

  const doSave = async (e: Event) => {
    e.preventDefault();
    if (!saveForm) return;
    try {
      await api.save({ name: saveForm.name, description: saveForm.description, query: queryText.current });
      setSaved(await api.saved());
      setSaveForm(null);
      setNotice(`Saved as ${saveForm.name}.insights in ${info?.queriesDir ?? 'the queries folder'}`);
    } catch (err) {
      setNotice(err instanceof RequestError ? err.message : String(err));
    }
  };

  const groups = useMemo(() => {
    const m = new Map<string, Recipe[]>();
    for (const r of recipes) {
      const g = r.name.split('/')[0] ?? 'other';
      m.set(g, [...(m.get(g) ?? []), r]);
    }
    return [...m.entries()];
  }, [recipes]);

  return (
    <div class="layout">
      <header class="top">
        <h1>
          <svg class="logo" aria-hidden="true" width="18" height="18" viewBox="0 0 16 16">
            <path d="M1 11h14l-2 3H3z" fill="var(--accent)" />
            <path d="M7 2v8H3z" fill="#f59f00" />
          </svg>{' '}
          logferry console
        </h1>
        <span class="source" title="what queries read (--from)">
          {info ? info.from : '…'}
        </span>
        <nav class="modes" aria-label="views">
          <button
            type="button"
            aria-current={mode === 'query' ? 'page' : undefined}
            onClick={() => setMode('query')}
          >
            Query
          </button>
          <button
            type="button"
            aria-current={mode === 'tail' ? 'page' : undefined}
            disabled={!info?.daemon}
            title={
              info?.daemon
                ? `records leaving the components of ${info.daemon}`
                : 'start the console with --daemon HOST:PORT of a logferry run --metrics-address'
            }
            onClick={() => setMode('tail')}
          >
            Live tail
          </button>
          <button
            type="button"
            aria-current={mode === 'pipeline' ? 'page' : undefined}
            disabled={!info?.daemon}
            title={
              info?.daemon
                ? `the pipeline of ${info.daemon}`
                : 'start the console with --daemon HOST:PORT of a logferry run --metrics-address'
            }
            onClick={() => setMode('pipeline')}
          >
            Pipeline
          </button>
        </nav>
        <label class="theme">
          <span class="sr-only">theme</span>
          <select
            value={theme}
            onChange={(e) => setTheme((e.target as HTMLSelectElement).value)}
            aria-label="theme"
          >
            <option value="auto">Auto theme</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
      </header>
      {mode === 'tail' && (
        <main class="main main-full">
          <LiveTail active={mode === 'tail'} />
        </main>
      )}
      {mode === 'pipeline' && (
        <main class="main main-full">
          <PipelineView active={mode === 'pipeline'} />
        </main>
      )}
      <aside class="side" aria-label="side panel" hidden={mode !== 'query'}>
        <div class="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'queries'}
            onClick={() => setTab('queries')}
          >
            Queries
          </button>
          <button type="button" role="tab" aria-selected={tab === 'fields'} onClick={() => setTab('fields')}>
            Fields
          </button>
        </div>
        {tab === 'queries' ? (
          <div class="panel" role="tabpanel" aria-label="saved queries">
            <section aria-label="your saved queries">
              <h3>Saved</h3>
              {saved.length === 0 && <p class="muted">Nothing saved yet: use Save on a query.</p>}
              <ul class="saved">
                {saved.map((s) => (
                  <li key={s.name}>
                    <button
                      type="button"
                      class="link"
                      onClick={() => setQuery(s.query)}
                      title={s.description}
                    >
                      {s.name}
                    </button>
                    <button
                      type="button"
                      class="icon"
                      aria-label={`delete ${s.name}`}
                      onClick={async () => {
                        await api.remove(s.name);
                        setSaved(await api.saved());
                      }}
                    >
                      ✕
                    </button>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-label="recipes">
              <h3>Recipes</h3>
              {groups.map(([g, list]) => (
                <details key={g} open={g === 'eks'}>
                  <summary>{g}</summary>
                  <ul class="recipes">
                    {list.map((r) => (
                      <li key={r.name}>
                        <button
                          type="button"
                          class="link"
                          aria-expanded={openRecipe === r.name}
                          onClick={() => setOpenRecipe(openRecipe === r.name ? null : r.name)}
                        >
                          {r.name.slice(g.length + 1)}
                        </button>
                        <p class="muted small">{r.description}</p>
                        {openRecipe === r.name && <RecipeForm recipe={r} onUse={setQuery} />}
                      </li>
                    ))}
                  </ul>
                </details>
              ))}
            </section>
            <section aria-label="history">
              <h3>History</h3>
              <ul class="history">
                {history.slice(0, 15).map((h) => (
                  <li key={`${h.at}`}>
                    <button
                      type="button"
                      class="link mono"
                      title={h.query}
                      onClick={() => {
                        setQuery(h.query);
                        setRange(h.range);
                      }}
                    >
                      {h.query.replace(/\s+/g, ' ').slice(0, 60)}
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          </div>
        ) : (
          <div class="panel" role="tabpanel" aria-label="fields">
            <FieldList
              title="In the results"
              fields={resultFields}
              total={result?.rows.length ?? 0}
              onFilter={addFilter}
              onColumn={addCol}
            />
            <FieldList
              title={`Discovered (${humanCount(sampled)} records sampled)`}
              fields={sample}
              total={sampled}
              onFilter={addFilter}
              onColumn={addCol}
            />
          </div>
        )}
      </aside>
      <main class="main" hidden={mode !== 'query'}>
        <div class="controls">
          <label>
            <span class="sr-only">time range</span>
            <select
              aria-label="time range"
              value={range.kind === 'relative' ? range.preset : range.kind}
              onChange={(e) => {
                const v = (e.target as HTMLSelectElement).value;
                if (v === 'all') setRange({ kind: 'all' });
                else if (v === 'absolute') setCustomOpen(true);
                else setRange({ kind: 'relative', preset: v });
              }}
            >
              <option value="all">All time</option>
              {PRESETS.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
              <option value="absolute">
                {range.kind === 'absolute' ? rangeLabel(range) : 'Custom (UTC)…'}
              </option>
            </select>
          </label>
          {customOpen && (
            <form
              class="custom-range"
              onSubmit={(e) => {
                e.preventDefault();
                const f = e.target as HTMLFormElement;
                const a = fromLocalInput((f.elements.namedItem('start') as HTMLInputElement).value);
                const b = fromLocalInput((f.elements.namedItem('end') as HTMLInputElement).value);
                if (a !== undefined && b !== undefined && a < b) {
                  setRange({ kind: 'absolute', startMs: a, endMs: b });
                  setCustomOpen(false);
                } else setNotice('Give a start before the end (UTC).');
              }}
            >
              <label>
                From{' '}
                <input
                  type="datetime-local"
                  step="1"
                  name="start"
                  defaultValue={toLocalInput(result?.range.startMs ?? Date.now() - 3_600_000)}
                />
              </label>
              <label>
                to{' '}
                <input
                  type="datetime-local"
                  step="1"
                  name="end"
                  defaultValue={toLocalInput(result?.range.endMs ?? Date.now())}
                />
              </label>
              <button type="submit">Apply</button>
              <button type="button" onClick={() => setCustomOpen(false)}>
                Close
              </button>
            </form>
          )}
          <div class="spacer" />
          {running ? (
            <button type="button" class="danger" onClick={cancel}>
              Cancel
            </button>
          ) : (
            <button type="button" class="primary" onClick={() => void run()} title="Run (Ctrl-Enter)">
              Run query
            </button>
          )}
          <button type="button" onClick={() => setSaveForm({ name: '', description: '' })}>
            Save
          </button>
          <button
            type="button"
            title="Copy the query for the CloudWatch Logs Insights console (select the log groups there)"
            onClick={async () => {
              if (await copyText(queryText.current))
                setNotice(
                  'Query copied: paste it into CloudWatch Logs Insights and pick the log groups there.',
                );
            }}
          >
            Copy for CloudWatch
          </button>
        </div>
        {saveForm && (
          <form class="save-form" onSubmit={doSave} aria-label="save query">
            <label>
              Name{' '}
              <input
                name="name"
                required
                value={saveForm.name}
                onInput={(e) => setSaveForm({ ...saveForm, name: (e.target as HTMLInputElement).value })}
              />
            </label>
            <label>
              Description{' '}
              <input
                name="description"
                value={saveForm.description}
                onInput={(e) =>
                  setSaveForm({ ...saveForm, description: (e.target as HTMLInputElement).value })
                }
              />
            </label>
            <button type="submit" class="primary">
              Save query
            </button>
            <button type="button" onClick={() => setSaveForm(null)}>
              Cancel
            </button>
          </form>
        )}
        <div class="editor" ref={editorHost} />
        <div class="status-line">
          {estimate && estimate.objects !== undefined && !running && (
            <span class="muted" data-testid="estimate">
              Will scan {humanCount(estimate.objects)} object{estimate.objects === 1 ? '' : 's'} ·{' '}
              {humanBytes(estimate.bytes ?? 0)}
              {estimate.objectsPruned ? ` · ${humanCount(estimate.objectsPruned)} pruned by key` : ''} ·{' '}
              {rangeLabel(range)}
            </span>
          )}
          {estimate?.note && !running && <span class="muted">{estimate.note}</span>}
          {notice && (
            <span class="notice" role="status">
              {notice}
            </span>
          )}
        </div>
        {running && progress && (
          <ProgressBar progress={progress.p} estimate={estimate} elapsedMs={progress.elapsedMs} />
        )}
        {running && !progress && (
          <div class="progress" role="status">
            <progress aria-label="scan progress" /> <span>Starting…</span>
          </div>
        )}
        {error && (
          <div class="error" role="alert" data-testid="query-error">
            {error.problems.length > 0 ? (
              <ul>
                {error.problems.map((p) => (
                  <li key={`${p.line}:${p.column}:${p.message}`}>
                    line {p.line}, column {p.column}: {p.message}
                  </li>
                ))}
              </ul>
            ) : (
              <p>{error.message}</p>
            )}
          </div>
        )}
        {result && (
          <section class="results-area" aria-label="results">
            {!result.aggregates && (
              <div class="chart-box">
                <div class="chart-head">
                  <span>
                    {humanCount(result.stats.recordsMatched)} matching events
                    {result.range.startMs !== undefined && result.range.endMs !== undefined
                      ? ` · ${fmt(result.range.startMs)} → ${fmt(result.range.endMs)} UTC`
                      : ''}
                  </span>
                  <span class="muted small">drag across the histogram to zoom</span>
                </div>
                <div class="histogram" ref={histEl} data-testid="histogram" />
              </div>
            )}
            {result.aggregates && result.binColumn && (
              <div class="chart-box">
                <div class="chart-head">
                  <span>{result.binColumn}</span>
                  <fieldset class="chart-kind" aria-label="chart type">
                    <button
                      type="button"
                      aria-pressed={chartKind === 'bar'}
                      onClick={() => setChartKind('bar')}
                    >
                      Bar
                    </button>
                    <button
                      type="button"
                      aria-pressed={chartKind === 'line'}
                      onClick={() => setChartKind('line')}
                    >
                      Line
                    </button>
                  </fieldset>
                </div>
                <div class="stats-chart" ref={chartEl} data-testid="stats-chart" />
              </div>
            )}
            <ResultsTable result={result} />
            <footer class="result-footer muted" data-testid="result-footer">
              {humanCount(result.rows.length)} row{result.rows.length === 1 ? '' : 's'} ·{' '}
              {humanCount(result.stats.recordsMatched)} of {humanCount(result.stats.recordsScanned)} records
              matched · {humanBytes(result.progress.bytesIn)} in {humanCount(result.progress.objectsDone)}{' '}
              objects
              {result.progress.objectsPruned ? ` (${humanCount(result.progress.objectsPruned)} pruned)` : ''}{' '}
              · {(result.elapsedMs / 1000).toFixed(2)} s
              {result.partial && (
                <strong data-testid="partial-marker" aria-live="polite">
                  {' '}
                  · partial: rows found so far, still scanning
                </strong>
              )}
              {result.notes.map((n) => (
                <div key={n}>note: {n}</div>
              ))}
              {result.progress.objectsFailed > 0 && (
                <div class="error-text">
                  {result.progress.objectsFailed} object(s) could not be read and were skipped:{' '}
                  {result.progress.failures.join('; ')}
                </div>
              )}
            </footer>
          </section>
        )}
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
