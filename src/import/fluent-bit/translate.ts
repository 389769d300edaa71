/**
 * Fluent Bit sections → logferry's named-component config. Routing is resolved statically, as Fluent
 * Bit resolves it at run time: each input's tag is run through the `[FILTER]`s in file order (those
 * whose `Match`/`Match_Regex` select it), inputs that see the same filters share one chain, and each
 * `[OUTPUT]` reads the chain ends its `Match` selects (`inputs:`). A wildcard tag (`kube.*` on a tail
 * input, or any tag arriving over `forward`) that a pattern selects only partly is routed at run time
 * by a condition on the record's `tag` field. `rewrite_tag` branches the chain: re-tagged records
 * start the filters again under their new tag, as Fluent Bit's emitter does.
 *
 * Everything that has no logferry equivalent is kept as a YAML comment next to the nearest component
 * and listed (with file:line) in `notes`; secrets are never copied (AWS keys are refused, other
 * credentials become `env:NAME` references).
 */
import {
  type FbConfig,
  type FbEntry,
  type FbSection,
  at,
  getAll,
  getEntry,
  getValue,
  pluginName,
} from './model.js';
import {
  accessorSegments,
  indexTemplate,
  fieldExpr,
  onigmoToJs,
  parseBool,
  parseDurationMs,
  parseSize,
  patternsIntersect,
  regexLit,
  splitKeyValue,
  splitList,
  strftimeToIndex,
  stringLit,
  tagPatternToRegex,
  tokenize,
} from './values.js';
import { expandVariables } from './classic.js';
import { regexOptionsSchema } from '../../parsers/regex.js';
import { ltsvOptionsSchema } from '../../parsers/ltsv.js';

export type NoteKind = 'untranslated' | 'approximated' | 'secret' | 'ignored' | 'info';

export interface Note {
  kind: NoteKind;
  where: string;
  message: string;
}

type Cfg = Record<string, unknown>;

export interface Translation {
  /** The logferry config document (what `-o` writes, without comments). */
  doc: {
    sources: Record<string, Cfg>;
    transforms?: Record<string, Cfg>;
    sinks?: Record<string, Cfg>;
    metricsAddress?: string;
  };
  /** Comment lines per component (`sources.tail`, `sinks.es`) and for the document head. */
  comments: Map<string, string[]>;
  notes: Note[];
}

export interface TranslateOptions {
  env?: NodeJS.ProcessEnv;
}

/** Keys that hold AWS credentials: never copied, whatever the plugin. */
const AWS_KEY_KEYS = new Set([
  'aws_key_id',
  'aws_sec_key',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_access_key',
  'aws_secret_key',
  'aws_session_token',
]);
/** Keys that hold other credentials: become `env:NAME` where logferry has a place for them. */
const SECRET_KEYS = new Set([
  'http_passwd',
  'http_password',
  'splunk_token',
  'shared_key',
  'cloud_auth',
  'bearer_token',
  'apikey',
  'api_key',
  'license_key',
  'password',
  'passwd',
  'tls.key_passwd',
  'rdkafka.sasl.password',
]);

export function isSecretKey(key: string): boolean {
  return AWS_KEY_KEYS.has(key) || SECRET_KEYS.has(key);
}

/** Keys every plugin section may carry that logferry handles differently (not lost behaviour). */
const COMMON_IGNORED: Record<string, string> = {
  alias: 'used as the component name',
  log_level: 'logferry logs per process (--log-level)',
  retry_limit:
    'logferry retries with capped exponential backoff; failed records are redriven or dead-lettered',
  workers: 'logferry sinks send concurrently by themselves',
  threaded: 'logferry runs every component in one event loop',
  mem_buf_limit: 'logferry bounds memory per sink with backpressure to the sources',
  'storage.type': 'buffering is per sink in logferry (see docs/configuration.md)',
  'storage.pause_on_chunks_overlimit': 'logferry applies backpressure instead',
  'storage.total_limit_size': 'buffering is per sink in logferry',
  routable: 'routing is by inputs/match',
  'tls.verify': 'logferry always verifies TLS certificates',
  'tls.debug': 'no equivalent needed',
  'net.keepalive': 'connections are kept alive by default',
  auto_retry_requests: 'logferry retries failed requests with backoff by itself',
};

/** Role assumption of Fluent Bit's AWS outputs: logferry takes credentials from the default chain. */
const AWS_ROLE_KEYS = new Set(['role_arn', 'sts_endpoint', 'external_id']);

interface Parsed {
  /** The logferry parser config, when the format translates. */
  parser?: Cfg;
  /** Decoders to run on the parsed fields afterwards. */
  decoders: Cfg[];
  /** Named groups of a regex parser (to tell whether a decoder can apply). */
  groups?: Set<string>;
  section?: FbSection;
}

interface Stream {
  label: string;
  upstream: string[];
  tag: string;
  /** The tag as a `*`-pattern of what it can expand to (tail `*` tags, forward inputs). */
  pattern: string;
  /** Fluent Bit keys that are the record's message in logferry (`log` for tail). */
  messageKeys: Set<string>;
  start: number;
  /** Expression giving a record's tag at run time (default: its `tag` field). */
  tagExpr?: string;
  depth: number;
  /** Runtime tag condition that selects this stream's records (rewrite_tag branches), if any. */
}

export function translate(fb: FbConfig, opts: TranslateOptions = {}): Translation {
  const env = opts.env ?? process.env;
  const notes: Note[] = [];
  const seen = new Set<string>();
  const comments = new Map<string, string[]>();
  const note = (
    kind: NoteKind,
    where: { file: string; line?: number },
    message: string,
    component?: string,
  ) => {
    const w = at(where);
    const k = `${kind}|${w}|${message}`;
    if (!seen.has(k)) {
      seen.add(k);
      notes.push({ kind, where: w, message });
    }
    const label = {
      ignored: 'ignored',
      secret: 'SECRET',
      untranslated: 'NOT TRANSLATED',
      approximated: 'APPROXIMATED',
      info: '',
    }[kind];
    if (component && kind !== 'info') comment(component, `${label}: ${message} (${w})`);
  };
  /** Notes `message` (or what it makes of the entry) at section `o`'s `key` entry, when that entry is set. */
  const noteEntry = (
    kind: NoteKind,
    o: FbSection,
    key: string,
    message: string | ((e: FbEntry) => string),
    component?: string,
  ) => {
    const e = getEntry(o, key);
    if (e) note(kind, e, typeof message === 'string' ? message : message(e), component);
  };
  const comment = (component: string, line: string) => {
    const list = comments.get(component) ?? [];
    if (list.includes(line)) return;
    // Provenance first, then what did not translate.
    if (line.startsWith('from ') || line.startsWith('routes ') || line.startsWith('stand-in')) {
      const firstNonFrom = list.findIndex((l) => !l.startsWith('from ') && !l.startsWith('routes '));
      list.splice(firstNonFrom === -1 ? list.length : firstNonFrom, 0, line);
    } else list.push(line);
    comments.set(component, list);
  };
  const val = (e: FbEntry | undefined): string | undefined => {
    if (!e) return undefined;
    return expandVariables(e.value, fb.variables, env, (name) =>
      note(
        'approximated',
        e,
        `\${${name}} is not set (no @SET and no environment variable): Fluent Bit would use an empty value`,
      ),
    );
  };
  const v = (s: FbSection, key: string) => val(getEntry(s, key));
  /** `KEY VALUE` of an entry; a value that expanded to nothing (an unset variable) is '' as in Fluent Bit. */
  const kvOf = (e: FbEntry): [string, string] | undefined => {
    const x = val(e) ?? '';
    const r = splitKeyValue(x);
    if (r) return r;
    const t = tokenize(x);
    return t.length === 1 && tokenize(e.value).length >= 2 ? [t[0], ''] : undefined;
  };

  /** A secret value: `${VAR}` → `env:VAR`; a literal is never copied (→ `env:<suggested>`). */
  const secretRef = (e: FbEntry, suggested: string, component: string, docs: string): string => {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(e.value.trim());
    if (m && !fb.variables.has(m[1])) return `env:${m[1]}`;
    const name = suggested.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    note(
      'secret',
      e,
      `${e.rawKey} is written in the file: not copied; put it in the environment variable ${name} (or use ssm:/… or secretsmanager:…), the config refers to env:${name} (${docs})`,
      component,
    );
    return `env:${name}`;
  };

  /** Lists the keys of `s` not in `handled` as untranslated (secrets redacted, AWS keys refused). */
  const rest = (
    s: FbSection,
    handled: Set<string>,
    component: string,
    extraIgnored: Record<string, string> = {},
  ) => {
    for (const e of s.entries) {
      if (handled.has(e.key) || e.key === 'name' || e.key === 'match' || e.key === 'match_regex') continue;
      if (AWS_KEY_KEYS.has(e.key)) {
        note(
          'secret',
          e,
          `${e.rawKey}: inline AWS keys are refused and were not copied; logferry takes AWS credentials only from the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment, a profile, or the instance, IRSA or task role) — docs/migrate-from-fluent-bit.md#secrets`,
          component,
        );
        continue;
      }
      if (AWS_ROLE_KEYS.has(e.key)) {
        note(
          'untranslated',
          e,
          `${e.rawKey}: logferry does not assume roles itself; it takes AWS credentials from the default chain, so run it with that role (IRSA, task or instance role) or a profile that assumes it (role_arn in ~/.aws/config, AWS_PROFILE)`,
          component,
        );
        continue;
      }
      const why = extraIgnored[e.key] ?? COMMON_IGNORED[e.key];
      if (why !== undefined) {
        note('ignored', e, `${e.rawKey}: ${why}`, component);
        continue;
      }
      const shown = SECRET_KEYS.has(e.key) ? '<redacted>' : e.value;
      note('untranslated', e, `${e.rawKey} ${shown}: no logferry equivalent`, component);
    }
    for (const n of s.nested ?? [])
      note(
        'untranslated',
        { file: s.file, line: n.line },
        `${n.key}: nested settings (processors, …) have no logferry equivalent`,
        component,
      );
  };

  // ---- service -------------------------------------------------------------------------------
  const doc: Translation['doc'] = { sources: {} };
  for (const s of fb.sections.filter((x) => x.kind === 'service')) {
    const handled = new Set([
      'parsers_file',
      'http_server',
      'http_listen',
      'http_port',
      'flush',
      'daemon',
      'log_level',
      'grace',
    ]);
    if (parseBool(v(s, 'http_server'))) {
      const host = v(s, 'http_listen') ?? '0.0.0.0';
      doc.metricsAddress = `${host}:${v(s, 'http_port') ?? '2020'}`;
      note('info', s, `HTTP_Server → metricsAddress ${doc.metricsAddress} (Prometheus /metrics and /health)`);
    }
    for (const k of ['flush', 'daemon', 'log_level', 'grace']) {
      const e = getEntry(s, k);
      if (e)
        note(
          'ignored',
          e,
          `${e.rawKey} ${e.value}: ${k === 'flush' ? 'each logferry sink batches by its own maxAgeMs/maxRecords' : k === 'daemon' ? 'run logferry under your service manager' : k === 'grace' ? 'logferry drains on SIGTERM' : 'use --log-level'}`,
          'head',
        );
    }
    rest(s, handled, 'head', {
      'storage.path': 'logferry keeps its state under one dataDir',
      'storage.sync': 'logferry keeps its state under one dataDir',
      'storage.checksum': 'logferry checksums its disk buffers',
      'storage.backlog.mem_limit': 'buffering is per sink in logferry',
      'storage.metrics': 'logferry serves /metrics (metricsAddress)',
      plugins_file: 'logferry has no external plugins',
      streams_file: 'stream processing has no logferry equivalent',
      health_check: 'logferry serves /health with metricsAddress',
      hc_errors_count: 'logferry serves /health with metricsAddress',
      hc_retry_failure_count: 'logferry serves /health with metricsAddress',
      hc_period: 'logferry serves /health with metricsAddress',
    });
  }
  for (const s of fb.sections.filter((x) => x.kind === 'other'))
    note('untranslated', s, `[${s.header}] section: no logferry equivalent`, 'head');

  // ---- parsers --------------------------------------------------------------------------------
  const parserSections = new Map<string, FbSection>();
  for (const s of fb.sections.filter((x) => x.kind === 'parser')) {
    const n = pluginName(s);
    if (!n) note('untranslated', s, '[PARSER] without Name: ignored');
    else parserSections.set(n, s);
  }
  const mlSections = new Map<string, FbSection>();
  for (const s of fb.sections.filter((x) => x.kind === 'multiline_parser')) {
    const n = pluginName(s);
    if (n) mlSections.set(n, s);
  }
  const parsedCache = new Map<string, Parsed | undefined>();
  /** A Fluent Bit parser by name → logferry parser config (+ decoders), or undefined with notes. */
  const parserFor = (
    name: string,
    where: { file: string; line?: number },
    component: string,
  ): Parsed | undefined => {
    const key = name.toLowerCase();
    if (parsedCache.has(key)) return parsedCache.get(key);
    const s = parserSections.get(key);
    let out: Parsed | undefined;
    if (!s) {
      // Not defined in the files read: the parsers Fluent Bit ships in its default parsers.conf.
      const builtin: Record<string, Cfg> = {
        json: { type: 'json', prefix: false },
        docker: { type: 'json', prefix: false },
        apache: { type: 'apache', format: 'common' },
        apache2: { type: 'apache' },
        apache_error: {
          type: 'regex',
          pattern:
            '^\\[[^ ]* (?<time>[^\\]]*)\\] \\[(?<level>[^\\]]*)\\](?: \\[pid (?<pid>[^\\]]*)\\])?( \\[client (?<client>[^\\]]*)\\])? (?<message>.*)$',
        },
        nginx: { type: 'nginx' },
        'syslog-rfc5424': { type: 'syslog', mode: 'rfc5424' },
        'syslog-rfc3164': { type: 'syslog', mode: 'rfc3164' },
        'syslog-rfc3164-local': { type: 'syslog', mode: 'rfc3164' },
        logfmt: { type: 'logfmt' },
        cri: {
          type: 'regex',
          pattern: '^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<message>.*)$',
          timeKey: 'time',
          timeKeep: true,
        },
      };
      const b = builtin[key];
      if (b) {
        note(
          'info',
          where,
          `parser ${name} is not defined in the files read; used the ${name} parser of Fluent Bit's stock parsers.conf (→ logferry ${b.type})`,
        );
        out = { parser: b, decoders: [] };
      } else
        note(
          'untranslated',
          where,
          `parser ${name} is not defined (pass its file with --parsers)`,
          component,
        );
      parsedCache.set(key, out);
      return out;
    }
    const format = (v(s, 'format') ?? '').toLowerCase();
    const comp = component;
    const timeOpts: Cfg = {};
    const tk = v(s, 'time_key');
    if (tk) timeOpts.timeKey = tk;
    const tf = v(s, 'time_format');
    if (tf) timeOpts.timeFormat = tf;
    const keep = parseBool(v(s, 'time_keep'));
    if (keep !== undefined) timeOpts.timeKeep = keep;
    const off = v(s, 'time_offset');
    if (off) timeOpts.timeOffset = off;
    const typesE = getEntry(s, 'types');
    if (typesE) {
      const types: Record<string, string> = {};
      for (const t of tokenize(val(typesE) ?? '')) {
        const [k, ty] = t.split(':');
        const m = { string: 'string', integer: 'integer', bool: 'bool', float: 'float' }[
          (ty ?? '').toLowerCase()
        ];
        if (k && m) types[k] = m;
        else
          note(
            'untranslated',
            typesE,
            `Types ${t}: type ${ty} has no logferry equivalent (string, integer, float, bool)`,
            comp,
          );
      }
      if (Object.keys(types).length) timeOpts.types = types;
    }
    const handled = new Set([
      'format',
      'time_key',
      'time_format',
      'time_keep',
      'time_offset',
      'types',
      'regex',
      'decode_field',
      'decode_field_as',
    ]);
    const decoders: Cfg[] = [];
    let parser: Cfg | undefined;
    let groups: Set<string> | undefined;
    if (format === 'regex') {
      const reE = getEntry(s, 'regex');
      if (!reE) note('untranslated', s, `parser ${name}: format regex without Regex`, comp);
      else {
        const { source, error } = onigmoToJs(reE.value);
        if (error)
          note(
            'untranslated',
            reE,
            `parser ${name}: the regular expression does not compile in JavaScript (${error})`,
            comp,
          );
        else {
          groups = new Set([...source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]));
          parser = { type: 'regex', pattern: source, ...timeOpts };
          if (parseBool(v(s, 'skip_empty_values')) === false)
            note(
              'approximated',
              s,
              `parser ${name}: Skip_Empty_Values Off — logferry leaves out groups that did not take part`,
              comp,
            );
        }
      }
    } else if (format === 'json') {
      // Time_Key/Time_Format/Time_Keep/Time_Offset as on a regex parser (Types: see below).
      const { types: _types, ...jsonTime } = timeOpts;
      parser = { type: 'json', prefix: false, ...jsonTime };
      if (typesE)
        note(
          'untranslated',
          typesE,
          `parser ${name}: Types on a json parser (JSON values keep their types)`,
          comp,
        );
    } else if (format === 'logfmt') {
      parser = { type: 'logfmt' };
      if (tk || tf || typesE)
        note(
          'untranslated',
          s,
          `parser ${name}: time and type options on a logfmt parser have no logferry equivalent`,
          comp,
        );
    } else if (format === 'ltsv') parser = { type: 'ltsv', ...timeOpts };
    else
      note(
        'untranslated',
        s,
        `parser ${name}: Format ${format || '(none)'} is not one of regex, json, logfmt, ltsv`,
        comp,
      );
    if (parser && (parser.type === 'regex' || parser.type === 'ltsv')) {
      // Time formats logferry's strptime cannot read: keep the parser, drop the format, say so.
      const schema = parser.type === 'regex' ? regexOptionsSchema : ltsvOptionsSchema;
      const r = schema.safeParse(parser);
      if (!r.success) {
        const msgs = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        if (parser.timeFormat !== undefined && r.error.issues.every((i) => i.path[0] === 'timeFormat')) {
          note(
            'untranslated',
            getEntry(s, 'time_format') ?? s,
            `parser ${name}: Time_Format ${parser.timeFormat} (${msgs}); the time is read as ISO 8601 / epoch instead`,
            comp,
          );
          delete parser.timeFormat;
        } else {
          note('untranslated', s, `parser ${name}: ${msgs}`, comp);
          parser = undefined;
        }
      }
    }
    for (const e of [...getAll(s, 'decode_field'), ...getAll(s, 'decode_field_as')]) {
      const [dec, field, action] = tokenize(val(e) ?? '');
      const as = { json: 'json', escaped: 'escaped', escaped_utf8: 'escaped-utf8' }[
        (dec ?? '').toLowerCase()
      ];
      if (!as || !field) {
        note(
          'untranslated',
          e,
          `${e.rawKey} ${e.value}: decoder ${dec} has no logferry equivalent (json, escaped, escaped_utf8)`,
          comp,
        );
        continue;
      }
      if (groups && !groups.has(field)) {
        note(
          'info',
          e,
          `${e.rawKey} ${e.value}: no-op — the regex of parser ${name} has no group ${field}, so Fluent Bit never decodes it; left out`,
        );
        continue;
      }
      if (action)
        note('approximated', e, `${e.rawKey}: the optional action ${action} is not translated`, comp);
      decoders.push({
        type: 'decode',
        field,
        as,
        ...(e.key === 'decode_field' && as === 'json' ? { merge: true } : {}),
      });
    }
    rest(s, handled, comp, {
      skip_empty_values: 'logferry leaves out groups that did not take part',
      time_strict: 'a time that does not parse keeps the record time',
    });
    out = parser ? { parser, decoders, groups, section: s } : undefined;
    parsedCache.set(key, out);
    return out;
  };

  // ---- inputs → sources ---------------------------------------------------------------------------
  const usedNames = new Set<string>();
  const unique = (base: string) => {
    let n = base || 'component';
    for (let k = 2; usedNames.has(n); k++) n = `${base}-${k}`;
    usedNames.add(n);
    return n;
  };
  interface SourcePlan {
    name: string;
    tagExpr?: string;
    tag: string;
    pattern: string;
    messageKeys: Set<string>;
    /** Transforms run on this source's records before the filters (the input's Parser). */
    head: Cfg[];
    headKey: string;
    section: FbSection;
  }
  const sourcePlans: SourcePlan[] = [];
  const perPlugin = new Map<string, number>();
  for (const s of fb.sections.filter((x) => x.kind === 'input')) {
    const plugin = pluginName(s);
    const idx = perPlugin.get(plugin) ?? 0;
    perPlugin.set(plugin, idx + 1);
    if (!plugin) {
      note('untranslated', s, '[INPUT] without Name: ignored');
      continue;
    }
    const tag = v(s, 'tag') || `${plugin}.${idx}`;
    const alias = v(s, 'alias');
    const base =
      (alias ?? tag.replace(/\*/g, '')).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '') ||
      plugin;
    const name = unique(base);
    const comp = `sources.${name}`;
    comment(comp, `from [INPUT] ${plugin} (${at(s)})`);
    const cfg: Cfg = {};
    const head: Cfg[] = [];
    let headKey = '';
    let pattern = tag;
    let messageKeys = new Set<string>();
    const handled = new Set<string>(['tag', 'alias']);
    const h = (...k: string[]) => {
      for (const x of k) handled.add(x);
    };
    const listen = (defHost: string, defPort: string) => {
      h('listen', 'port');
      return `${v(s, 'listen') ?? defHost}:${v(s, 'port') ?? defPort}`;
    };
    if (plugin === 'tail') {
      cfg.type = 'file';
      h(
        'path',
        'exclude_path',
        'read_from_head',
        'refresh_interval',
        'rotate_wait',
        'buffer_max_size',
        'buffer_chunk_size',
        'parser',
        'docker_mode',
        'multiline.parser',
        'multiline',
        'parser_firstline',
        'multiline_flush',
        'exit_on_eof',
        'key',
        'skip_long_lines',
        'db',
      );
      const paths = splitList(v(s, 'path') ?? '');
      if (paths.length === 0) {
        // An empty Path (none written, or an unset `${VAR}`): Fluent Bit refuses to start the input.
        note(
          'untranslated',
          getEntry(s, 'path') ?? s,
          `[INPUT] tail without a Path${getEntry(s, 'path') ? ` (${getEntry(s, 'path')?.value} is empty here)` : ''}: Fluent Bit would not start it; left out (set the variable and import again)`,
          'head',
        );
        usedNames.delete(name);
        continue;
      }
      cfg.path = paths.length === 1 ? paths[0] : paths;
      const ex = v(s, 'exclude_path');
      if (ex) cfg.exclude = splitList(ex).length === 1 ? splitList(ex)[0] : splitList(ex);
      const rfh = parseBool(v(s, 'read_from_head'));
      if (rfh !== undefined) cfg.readFromHead = rfh;
      const ri = parseDurationMs(v(s, 'refresh_interval'));
      if (ri !== undefined) cfg.refreshIntervalMs = Math.max(10, ri);
      const rw = parseDurationMs(v(s, 'rotate_wait'));
      if (rw !== undefined) cfg.rotateWaitMs = rw;
      const bmax = parseSize(v(s, 'buffer_max_size'));
      if (bmax !== undefined) cfg.maxLineBytes = Math.min(64 * 1024 * 1024, Math.max(64, bmax));
      const bchunk = parseSize(v(s, 'buffer_chunk_size'));
      if (bchunk !== undefined) cfg.readBufferBytes = Math.min(16 * 1024 * 1024, Math.max(4096, bchunk));
      if (parseBool(v(s, 'exit_on_eof'))) cfg.once = true;
      const sll = getEntry(s, 'skip_long_lines');
      note(
        'approximated',
        sll ?? s,
        `long lines: logferry cuts a line longer than maxLineBytes (${cfg.maxLineBytes ?? 1048576}), counts it and marks it truncated: true; Fluent Bit ${parseBool(sll?.value) ? 'skips it' : 'stops reading the file'}`,
        comp,
      );
      const db = getEntry(s, 'db');
      if (db)
        note(
          'ignored',
          db,
          `DB ${db.value}: positions are kept in logferry's dataDir (${'./logferry-data/state'} by default)`,
          comp,
        );
      messageKeys = new Set(['log']);
      const keyE = getEntry(s, 'key');
      if (keyE) messageKeys = new Set([keyE.value]);
      if (tag.includes('*')) {
        const first = paths[0] ?? '*';
        pattern = tag.replace('*', first.replace(/^\//, '').replace(/\//g, '.'));
      }
      // Multiline and container formats.
      const ml: Cfg = {};
      const mlE = getEntry(s, 'multiline.parser');
      if (mlE) {
        for (const p of splitList(val(mlE) ?? '')) {
          const pl = p.toLowerCase();
          if (pl === 'docker' || pl === 'cri') cfg.format = pl;
          else if (['java', 'python', 'go'].includes(pl))
            ml.parsers = [...((ml.parsers as string[]) ?? []), pl];
          else if (mlSections.has(pl)) {
            const ms = mlSections.get(pl) as FbSection;
            const rules = getAll(ms, 'rule').map((r) => tokenize(r.value));
            const start = rules.find((r) => r[0] === 'start_state');
            if (!start) note('untranslated', ms, `multiline parser ${p}: no start_state rule`, comp);
            else {
              const re = start[1].replace(/^\/(.*)\/$/, '$1');
              const js = onigmoToJs(re);
              if (js.error)
                note(
                  'untranslated',
                  ms,
                  `multiline parser ${p}: start_state regex does not compile in JavaScript (${js.error})`,
                  comp,
                );
              else {
                ml.firstLine = js.source;
                if (rules.length > 1)
                  note(
                    'approximated',
                    ms,
                    `multiline parser ${p}: a line matching the start_state rule starts a record and every other line continues it; the continuation rules (${rules.length - 1}) are not checked`,
                    comp,
                  );
              }
              const ft = parseDurationMs(v(ms, 'flush_timeout'), 1);
              if (ft !== undefined) ml.flushMs = Math.max(1, ft);
            }
          } else
            note(
              'untranslated',
              mlE,
              `multiline.parser ${p}: not a built-in logferry joins (docker, cri, java, python, go) nor a [MULTILINE_PARSER] read`,
              comp,
            );
        }
      }
      if (parseBool(v(s, 'docker_mode'))) {
        cfg.format = 'docker';
        h('docker_mode_parser', 'docker_mode_flush');
        noteEntry(
          'untranslated',
          s,
          'docker_mode_parser',
          'Docker_Mode_Parser: logferry reassembles split Docker lines by their missing newline only',
          comp,
        );
      }
      if (parseBool(v(s, 'multiline'))) {
        const pf = getEntry(s, 'parser_firstline');
        if (!pf) note('untranslated', s, 'Multiline On without Parser_Firstline', comp);
        else {
          const p = parserFor(val(pf) ?? '', pf, comp);
          if (p?.parser?.type === 'regex') {
            ml.firstLine = p.parser.pattern;
            head.push({ type: 'parse', parser: p.parser }, ...p.decoders);
            headKey += `parse:${pf.value};`;
            messageKeys = new Set();
          } else note('untranslated', pf, `Parser_Firstline ${pf.value}: needs a regex parser`, comp);
        }
        const mf = parseDurationMs(v(s, 'multiline_flush'));
        if (mf !== undefined) ml.flushMs = Math.max(1, mf);
        for (const e of getAll(s, 'parser_1').concat(getAll(s, 'parser_2'), getAll(s, 'parser_3')))
          note(
            'untranslated',
            e,
            `${e.rawKey}: logferry parses the joined record with Parser_Firstline only`,
            comp,
          );
        h('parser_1', 'parser_2', 'parser_3');
      }
      if (Object.keys(ml).length > 0) {
        if (ml.firstLine === undefined && ml.parsers === undefined) delete ml.flushMs;
        else cfg.multiline = ml;
      }
      const pe = getEntry(s, 'parser');
      if (pe) {
        const pn = (val(pe) ?? '').toLowerCase();
        if (pn === 'docker' && !parserSections.has('docker')) cfg.format = 'docker';
        else if (pn === 'cri' && !parserSections.has('cri')) {
          cfg.format = 'cri';
          messageKeys = new Set(['message']);
        } else {
          const p = parserFor(pn, pe, comp);
          if (p?.parser) {
            head.push({ type: 'parse', parser: p.parser }, ...p.decoders);
            headKey += `parse:${pn};`;
            if (!(p.groups?.has('log') ?? false)) messageKeys = new Set();
          }
        }
      }
      if (cfg.format === undefined) cfg.format = 'plain';
      // A `*` tag is expanded per file by the source (fields.tag), which runtime routing conditions read.
      cfg.tag = tag;
    } else if (plugin === 'forward') {
      cfg.type = 'forward';
      cfg.address = listen('0.0.0.0', '24224');
      pattern = `${v(s, 'tag_prefix') ?? ''}*`;
      h('tag_prefix', 'shared_key', 'self_hostname');
      const sk = getEntry(s, 'shared_key');
      if (sk) cfg.sharedKey = secretRef(sk, `FLB_${name}_SHARED_KEY`, comp, 'docs/configuration.md');
      if (getEntry(s, 'tag_prefix'))
        note(
          'info',
          s,
          `forward Tag_Prefix ${v(s, 'tag_prefix')}: records keep the tags the senders set; routing matches them at run time`,
        );
      if (!String(cfg.address).startsWith('127.'))
        note(
          'info',
          s,
          `forward listens on ${cfg.address} as Fluent Bit did; use 127.0.0.1 if only local agents send`,
        );
      messageKeys = new Set();
    } else if (plugin === 'http') {
      cfg.type = 'http';
      cfg.address = listen('0.0.0.0', '9880');
      if (!getEntry(s, 'tag_key')) cfg.tag = tag;
      messageKeys = new Set();
      pattern = getEntry(s, 'tag_key') ? '*' : tag;
      if (getEntry(s, 'tag_key')) h('tag_key');
    } else if (plugin === 'syslog') {
      cfg.type = 'syslog';
      cfg.tag = tag;
      const mode = (v(s, 'mode') ?? 'unix_udp').toLowerCase();
      h('mode', 'parser', 'path', 'unix_perm');
      if (mode === 'udp' || mode === 'tcp') {
        cfg.mode = mode;
        cfg.address = listen('0.0.0.0', '5140');
      } else
        note(
          'untranslated',
          getEntry(s, 'mode') ?? s,
          `syslog Mode ${mode}: logferry listens on UDP or TCP, not on Unix sockets`,
          comp,
        );
      const pn = v(s, 'parser');
      if (pn && !/^syslog-rfc(5424|3164)/i.test(pn)) {
        const p = parserFor(pn, getEntry(s, 'parser') as FbEntry, comp);
        if (p?.parser) {
          head.push({ type: 'parse', parser: p.parser }, ...p.decoders);
          headKey += `parse:${pn};`;
        }
      }
      messageKeys = new Set(['message']);
    } else if (plugin === 'stdin') {
      cfg.type = 'stdin';
      cfg.tag = tag;
      const pe = getEntry(s, 'parser');
      h('parser');
      if (pe) {
        cfg.format = 'lines';
        const p = parserFor(val(pe) ?? '', pe, comp);
        if (p?.parser) {
          head.push({ type: 'parse', parser: p.parser }, ...p.decoders);
          headKey += `parse:${pe.value};`;
        }
        messageKeys = new Set();
      } else {
        cfg.format = 'ndjson';
        messageKeys = new Set();
      }
    } else if (plugin === 'dummy') {
      // Fluent Bit's test generator ↔ logferry's demo source: sample records at the same rate, though
      // not the Dummy record itself.
      cfg.type = 'demo';
      h('dummy', 'rate', 'samples');
      const rate = Number(v(s, 'rate') ?? '1');
      cfg.rate = Number.isFinite(rate) && rate >= 0 ? rate : 1;
      const samples = Number(v(s, 'samples') ?? '0');
      if (Number.isInteger(samples) && samples > 0) {
        cfg.envelopes = samples;
        cfg.eventsPerEnvelope = 1;
      } else cfg.follow = true;
      note(
        'approximated',
        getEntry(s, 'dummy') ?? s,
        `[INPUT] dummy → demo source: sample log records (EKS, Lambda, ECS) at ${cfg.rate}/s${cfg.follow ? '' : `, ${samples} in all`}, not Fluent Bit's Dummy record`,
        comp,
      );
      messageKeys = new Set();
    } else {
      const hint: Record<string, string> = {
        systemd: 'tail the journal export or forward it with journald → syslog',
        cpu: 'logferry ships logs, not host metrics',
        mem: 'logferry ships logs, not host metrics',
        kmsg: 'forward kernel messages through syslog',
        tcp: 'send NDJSON to the http source instead',
        exec: 'pipe the command into logferry with the stdin source',
      };
      note(
        'untranslated',
        s,
        `[INPUT] ${plugin}: no logferry source${hint[plugin] ? ` (${hint[plugin]})` : ''}`,
        'head',
      );
      usedNames.delete(name);
      continue;
    }
    rest(s, handled, comp);
    doc.sources[name] = cfg;
    // A tail input's `*` tag is the file path with `/` → `.` (Fluent Bit's expansion), rebuilt from
    // the record's log group (the file path) so runtime routing does not depend on a tag field.
    const star = tag.indexOf('*');
    const tagExpr =
      plugin === 'tail' && star >= 0 && cfg.logGroup === undefined
        ? `concat(${stringLit(tag.slice(0, star))}, replace(ltrim(@logGroup, "/"), "/", "."), ${stringLit(tag.slice(star + 1))})`
        : undefined;
    sourcePlans.push({ name, tag, tagExpr, pattern, messageKeys, head, headKey, section: s });
  }
  if (sourcePlans.length === 0) {
    // Nothing to read from (only host-metric inputs, or a parsers file): a stdin source stands in,
    // carrying the first input's tag, so the filters and outputs are still translated and wired and
    // the file validates; it reads lines piped into `logferry run`.
    const first = fb.sections.find((x) => x.kind === 'input');
    const tag = (first && v(first, 'tag')) || (first ? `${pluginName(first) || 'input'}.0` : 'stdin');
    const name = unique('stdin');
    doc.sources[name] = { type: 'stdin', format: 'lines', tag };
    comment(
      `sources.${name}`,
      `stand-in: no [INPUT] translated, so this stdin source (tag ${tag}) feeds the pipeline; replace it with a real source`,
    );
    note(
      'info',
      first ?? { file: fb.files[0] ?? 'config' },
      `no [INPUT] translated: added the source ${name} (lines from stdin, tag ${tag}) so the filters and outputs are wired; replace it with a real source`,
    );
    sourcePlans.push({
      name,
      tag,
      pattern: tag,
      // A line's text is what Fluent Bit's line inputs call `log` (tail, exec) or `message`.
      messageKeys: new Set(['log', 'message']),
      head: [],
      headKey: '',
      section: first ?? {
        kind: 'input',
        header: 'INPUT',
        entries: [],
        file: fb.files[0] ?? 'config',
        line: 0,
      },
    });
  }

  // ---- routing helpers ------------------------------------------------------------------------------
  type Sel = 'all' | 'some' | 'none';
  /** Whether a section's Match / Match_Regex selects a stream's tag: fully, partly (at run time), or not. */
  const selects = (s: FbSection, st: { tag: string; pattern: string }, comp: string): Sel => {
    const mr = v(s, 'match_regex');
    if (mr !== undefined) {
      const js = onigmoToJs(mr);
      if (js.error) {
        note(
          'untranslated',
          getEntry(s, 'match_regex') as FbEntry,
          `Match_Regex does not compile in JavaScript (${js.error})`,
          comp,
        );
        return 'none';
      }
      const re = new RegExp(js.source);
      if (!st.pattern.includes('*')) return re.test(st.tag) ? 'all' : 'none';
      return 'some';
    }
    const m = v(s, 'match');
    if (m === undefined) return 'none';
    if (!st.pattern.includes('*')) return tagMatchesFb(m, st.tag) ? 'all' : 'none';
    if (tagMatchesFb(m, st.pattern) && (m === '*' || m.endsWith('*') || !m.includes('*') === false)) {
      // The pattern covers the whole wildcard tag only when its own `*` covers the tag's `*`.
      if (coversPattern(m, st.pattern)) return 'all';
    }
    return patternsIntersect(m, st.pattern) ? 'some' : 'none';
  };
  /** The runtime condition selecting records whose `tag` field the section's Match selects. */
  const tagCondition = (s: FbSection, st: { tagExpr?: string }): string => {
    const subject = st.tagExpr ?? 'tag';
    const mr = v(s, 'match_regex');
    if (mr !== undefined) return `${subject} like ${regexLit(onigmoToJs(mr).source)}`;
    return `${subject} like ${regexLit(tagPatternToRegex(v(s, 'match') ?? ''))}`;
  };

  // ---- filters, per stream ------------------------------------------------------------------------
  const filters = fb.sections.filter((x) => x.kind === 'filter');
  for (const f of filters) {
    if (v(f, 'match') === undefined && v(f, 'match_regex') === undefined)
      note('untranslated', f, `[FILTER] ${pluginName(f)} has no Match: Fluent Bit applies it to nothing`);
  }
  const transforms: Record<string, Cfg> = {};
  const ends: { stream: Stream; names: string[] }[] = [];

  const field = (key: string, st: Stream): string => {
    const segs = accessorSegments(key);
    if (segs.length === 1 && st.messageKeys.has(segs[0])) return '@message';
    return segs.join('.');
  };
  const fieldRef = (key: string, st: Stream): string => {
    const f = field(key, st);
    return f === '@message' ? f : fieldExpr(accessorSegments(key));
  };

  /** One filter section on one stream → transform configs (empty: nothing to run). */
  const filterConfigs = (f: FbSection, st: Stream, sel: Sel, comp: string): Cfg[] | { rewrite: true } => {
    const plugin = pluginName(f);
    const tagCond = sel === 'some' ? tagCondition(f, st) : undefined;
    const and = (c: string | undefined) => (tagCond && c ? `(${tagCond}) and (${c})` : (tagCond ?? c));
    const handled = new Set<string>();
    const h = (...k: string[]) => {
      for (const x of k) handled.add(x);
    };
    const out: Cfg[] = [];
    const noCondition = (what: string) => {
      if (tagCond)
        note(
          'approximated',
          f,
          `${what} runs on every record of ${st.label}, though Match selects only some of its tags`,
          comp,
        );
    };
    switch (plugin) {
      case 'parser': {
        h('key_name', 'parser', 'reserve_data', 'preserve_key', 'unescape_key');
        const key = v(f, 'key_name');
        const ps = getAll(f, 'parser');
        if (!key || ps.length === 0) {
          note('untranslated', f, 'parser filter needs Key_Name and Parser', comp);
          break;
        }
        const from = field(key, st);
        if (
          from !== '@message' &&
          accessorSegments(key).length === 1 &&
          st.upstream.length > 0 &&
          stParsedAway(st, key)
        ) {
          note(
            'info',
            f,
            `parser filter on ${key}: no-op — the input's Parser already replaced ${key}, so Fluent Bit finds no such key; left out`,
          );
          break;
        }
        if (ps.length > 1)
          note(
            'approximated',
            ps[1],
            `parser filter: Fluent Bit tries ${ps.map((p) => p.value).join(', ')} in turn; logferry runs ${ps[0].value} only`,
            comp,
          );
        const p = parserFor(val(ps[0]) ?? '', ps[0], comp);
        if (!p?.parser) break;
        const cfg: Cfg = { type: 'parse', parser: p.parser, from };
        if (from !== '@message' && !parseBool(v(f, 'preserve_key'))) cfg.keepSource = false;
        const cond = and(undefined);
        if (cond) cfg.condition = cond;
        out.push(cfg, ...p.decoders.map((d) => (d.field === key ? d : d)));
        if (!parseBool(v(f, 'reserve_data')))
          note(
            'approximated',
            getEntry(f, 'reserve_data') ?? f,
            "Reserve_Data Off: Fluent Bit keeps only the parsed keys; logferry keeps the record's other fields beside them",
            comp,
          );
        if (from === '@message') st.messageKeys = new Set();
        break;
      }
      case 'grep': {
        h('regex', 'exclude', 'logical_op');
        const op = (v(f, 'logical_op') ?? 'legacy').toLowerCase();
        const rule = (e: FbEntry) => {
          const kv = splitKeyValue(val(e) ?? '');
          if (!kv) {
            note('untranslated', e, `${e.rawKey} ${e.value}: expected KEY REGEX`, comp);
            return undefined;
          }
          const js = onigmoToJs(kv[1]);
          if (js.error) {
            note(
              'untranslated',
              e,
              `${e.rawKey}: the regex does not compile in JavaScript (${js.error})`,
              comp,
            );
            return undefined;
          }
          return `${fieldRef(kv[0], st)} like ${regexLit(js.source)}`;
        };
        const keep = getAll(f, 'regex')
          .map(rule)
          .filter((x): x is string => !!x);
        const drop = getAll(f, 'exclude')
          .map(rule)
          .filter((x): x is string => !!x);
        const cfg: Cfg = { type: 'filter' };
        const j = (xs: string[], w: string) => xs.map((x) => (xs.length > 1 ? `(${x})` : x)).join(` ${w} `);
        if (keep.length) {
          const c = j(keep, op === 'or' ? 'or' : 'and');
          cfg.condition = tagCond ? `not (${tagCond}) or (${c})` : c;
        }
        if (drop.length) {
          const c = j(drop, op === 'and' ? 'and' : 'or');
          cfg.exclude = tagCond ? `(${tagCond}) and (${c})` : c;
        }
        if (keep.length || drop.length) out.push(cfg);
        break;
      }
      case 'modify': {
        const conds: string[] = [];
        let condOk = true;
        for (const e of getAll(f, 'condition')) {
          h('condition');
          const t = tokenize(val(e) ?? '');
          const c = (t[0] ?? '').toLowerCase();
          const fr = (k: string) => fieldRef(k, st);
          const re = (r: string) => regexLit(onigmoToJs(r).source);
          const map: Record<string, () => string | undefined> = {
            key_exists: () => `ispresent(${fr(t[1])})`,
            key_does_not_exist: () => `not ispresent(${fr(t[1])})`,
            key_value_equals: () => `${fr(t[1])} = ${stringLit(t[2] ?? '')}`,
            key_value_does_not_equal: () => `not (${fr(t[1])} = ${stringLit(t[2] ?? '')})`,
            key_value_matches: () => `${fr(t[1])} like ${re(t[2] ?? '')}`,
            key_value_does_not_match: () => `not (${fr(t[1])} like ${re(t[2] ?? '')})`,
          };
          const r = map[c]?.();
          if (r && t[1] !== undefined) conds.push(r);
          else {
            condOk = false;
            note(
              'untranslated',
              e,
              `Condition ${e.value}: no Logs Insights equivalent (conditions on key names); the filter was left out rather than applied to every record`,
              comp,
            );
          }
        }
        if (!condOk) break;
        const cond = and(
          conds.length ? conds.map((c) => (conds.length > 1 ? `(${c})` : c)).join(' and ') : undefined,
        );
        const ops: Cfg[] = [];
        for (const e of f.entries) {
          const k = e.key;
          const w = (op: Cfg) => ops.push(cond ? { ...op, condition: cond } : op);
          const kv = () => {
            const r = kvOf(e);
            if (!r) note('untranslated', e, `${e.rawKey} ${e.value}: expected two values`, comp);
            return r;
          };
          const target = (key: string, what: string): string | undefined => {
            const fl = field(key, st);
            if (fl === '@message') {
              note(
                'untranslated',
                e,
                `${e.rawKey} ${e.value}: ${key} is the record's message in logferry, which ${what}`,
                comp,
              );
              return undefined;
            }
            return fl;
          };
          if (k === 'set' || k === 'add') {
            h(k);
            const r = kv();
            const t = r && target(r[0], 'cannot be overwritten');
            if (r && t) w({ [k]: t, value: r[1] });
          } else if (k === 'remove') {
            h(k);
            const t = target(val(e) ?? '', 'is never removed');
            if (t) w({ remove: t });
          } else if (k === 'rename' || k === 'hard_rename' || k === 'copy' || k === 'hard_copy') {
            h(k);
            const r = kv();
            if (!r) continue;
            const to = target(r[1], 'cannot be overwritten');
            if (!to) continue;
            const fromF = field(r[0], st);
            const hard = k.startsWith('hard_');
            if (k.endsWith('rename') && fromF === '@message') {
              note(
                'approximated',
                e,
                `${e.rawKey} ${e.value}: the message stays in @message and is copied to ${to}`,
                comp,
              );
              w({ copy: '@message', to, ...(hard ? { overwrite: true } : {}) });
            } else if (k.endsWith('rename')) w({ rename: fromF, to, ...(hard ? { overwrite: true } : {}) });
            else w({ copy: fromF, to, ...(hard ? { overwrite: true } : {}) });
          } else if (['remove_wildcard', 'remove_regex', 'move_to_start', 'move_to_end'].includes(k)) {
            h(k);
            note(
              'untranslated',
              e,
              `${e.rawKey} ${e.value}: ${k.startsWith('move') ? 'key order is not kept by logferry' : 'logferry removes named fields only'}`,
              comp,
            );
          }
        }
        if (ops.length) out.push({ type: 'modify', operations: ops });
        break;
      }
      case 'record_modifier': {
        h('record', 'remove_key', 'allowlist_key', 'whitelist_key', 'uuid_key');
        const ops: Cfg[] = [];
        for (const e of getAll(f, 'record')) {
          const r = kvOf(e);
          if (!r) note('untranslated', e, `Record ${e.value}: expected KEY VALUE`, comp);
          else if (field(r[0], st) === '@message')
            note('untranslated', e, `Record ${r[0]}: the message cannot be overwritten`, comp);
          else ops.push({ set: field(r[0], st), value: r[1] });
        }
        for (const e of getAll(f, 'remove_key')) {
          const fl = field(val(e) ?? '', st);
          if (fl === '@message')
            note('untranslated', e, 'Remove_key of the message: logferry always keeps @message', comp);
          else ops.push({ remove: fl });
        }
        for (const e of [
          ...getAll(f, 'allowlist_key'),
          ...getAll(f, 'whitelist_key'),
          ...getAll(f, 'uuid_key'),
        ])
          note(
            'untranslated',
            e,
            `${e.rawKey} ${e.value}: ${e.key === 'uuid_key' ? 'logferry records carry their own @id' : 'logferry removes named fields only (list the others with modify remove)'}`,
            comp,
          );
        if (tagCond) for (const o of ops) o.condition = tagCond;
        if (ops.length) out.push({ type: 'modify', operations: ops });
        break;
      }
      case 'nest': {
        h('operation', 'wildcard', 'nest_under', 'nested_under', 'add_prefix', 'remove_prefix');
        const op = (v(f, 'operation') ?? '').toLowerCase();
        const wild = getAll(f, 'wildcard').map((e) => val(e) ?? '');
        if (op === 'nest') {
          const under = v(f, 'nest_under');
          if (!under || wild.length === 0) {
            note('untranslated', f, 'nest: Operation nest needs Wildcard and Nest_under', comp);
            break;
          }
          const cfg: Cfg = { type: 'nest', keys: wild, under };
          const rp = v(f, 'remove_prefix');
          if (rp) cfg.removePrefix = rp;
          noteEntry('untranslated', f, 'add_prefix', 'Add_prefix with Operation nest', comp);
          noCondition('nest');
          out.push(cfg);
        } else if (op === 'lift') {
          const under = v(f, 'nested_under');
          if (!under) {
            note('untranslated', f, 'nest: Operation lift needs Nested_under', comp);
            break;
          }
          const cfg: Cfg = { type: 'lift', under: accessorSegments(under).join('.') };
          const ap = v(f, 'add_prefix');
          if (ap) cfg.addPrefix = ap;
          if (wild.length) cfg.keys = wild;
          noteEntry('untranslated', f, 'remove_prefix', 'Remove_prefix with Operation lift', comp);
          noCondition('lift');
          out.push(cfg);
        } else note('untranslated', f, `nest: Operation ${op || '(none)'} (nest or lift)`, comp);
        break;
      }
      case 'throttle': {
        h('rate', 'window', 'interval', 'print_status');
        const rate = Number(v(f, 'rate') ?? 'NaN');
        const win = Number(v(f, 'window') ?? '5');
        const iv = parseDurationMs(v(f, 'interval') ?? '1s') ?? 1000;
        if (!Number.isFinite(rate) || rate <= 0 || !Number.isFinite(win) || win <= 0) {
          note('untranslated', f, 'throttle needs a positive Rate (and Window)', comp);
          break;
        }
        const cfg: Cfg = {
          type: 'throttle',
          threshold: Math.max(1, Math.round(rate * win)),
          window: `${Math.round(iv * win)}ms`,
        };
        if (tagCond) cfg.condition = tagCond;
        note(
          'approximated',
          f,
          `throttle: Fluent Bit averages Rate ${rate} per Interval over a sliding Window of ${win}; logferry lets ${cfg.threshold} records through per fixed ${Math.round(iv * win)} ms window`,
          comp,
        );
        out.push(cfg);
        break;
      }
      case 'kubernetes': {
        h(
          'merge_log',
          'merge_log_key',
          'keep_log',
          'kube_url',
          'kube_ca_file',
          'kube_token_file',
          'kube_tag_prefix',
          'labels',
          'annotations',
          'k8s-logging.parser',
          'k8s-logging.exclude',
          'use_kubelet',
          'buffer_size',
          'merge_parser',
          'kube_meta_cache_ttl',
        );
        note(
          'approximated',
          f,
          "kubernetes: logferry's file source takes kubernetes.pod_name, namespace_name, container_name and docker_id from /var/log/containers/<pod>_<namespace>_<container>-<id>.log names (kubernetesNames: true); labels, annotations, pod_id and host from the API server are not added",
          comp,
        );
        if (parseBool(v(f, 'merge_log'))) {
          const key = st.messageKeys.has('log') ? '@message' : 'log';
          const into = v(f, 'merge_log_key');
          const cfg: Cfg = { type: 'decode', field: key, as: 'json', ...(into ? { into } : { merge: true }) };
          if (key === '@message' && !into) cfg.merge = true;
          noCondition('Merge_Log');
          out.push(cfg);
          if (parseBool(v(f, 'keep_log')) === false && key === '@message')
            note(
              'approximated',
              getEntry(f, 'keep_log') as FbEntry,
              'Keep_Log Off: logferry always keeps the original line in @message',
              comp,
            );
        }
        for (const k of ['k8s-logging.parser', 'k8s-logging.exclude', 'merge_parser'])
          if (parseBool(v(f, k)) || (k === 'merge_parser' && getEntry(f, k)))
            note(
              'untranslated',
              getEntry(f, k) as FbEntry,
              `${k}: pod annotations are not read by logferry`,
              comp,
            );
        break;
      }
      case 'rewrite_tag':
        return { rewrite: true };
      default: {
        const hint: Record<string, string> = {
          aws: 'EC2 instance metadata is not looked up; add known values with add-fields `fields:`',
          lua: 'Lua scripts cannot run in logferry; rewrite the logic with modify/filter transforms',
          stdout: 'use `logferry tap <config> <component>` to watch records',
          expect: 'use `logferry tap` or a filter transform',
          multiline: "join lines at the source: the file source's multiline option",
          record_modifier: '',
          geoip2: 'no GeoIP lookup in logferry',
        };
        note(
          'untranslated',
          f,
          `[FILTER] ${plugin}${hint[plugin] ? `: ${hint[plugin]}` : ': no logferry transform'}`,
          comp,
        );
        return [];
      }
    }
    rest(f, handled, comp);
    return out;
  };
  /** Whether the input's own Parser consumed a key (Fluent Bit replaces the record with the parsed keys). */
  const stParsedAway = (st: Stream, key: string) =>
    st.messageKeys.size === 0 && key === 'log' && parsedAway.has(st.label);
  const parsedAway = new Set<string>();

  const addTransform = (base: string, cfg: Cfg, inputs: string[]): string => {
    const name = unique(base.replace(/[^A-Za-z0-9_.-]+/g, '-'));
    transforms[name] = { ...cfg, inputs };
    return name;
  };

  const runStream = (st: Stream) => {
    const lastComp = () => {
      const u = st.upstream[st.upstream.length - 1];
      return transforms[u] ? `transforms.${u}` : `sources.${u}`;
    };
    for (let i = st.start; i < filters.length; i++) {
      const f = filters[i];
      const sel = selects(f, st, lastComp());
      if (sel === 'none') continue;
      const plugin = pluginName(f);
      const probe = `transforms.?${i}`;
      const before = notes.length;
      const res = filterConfigs(f, st, sel, probe);
      const probeComments = comments.get(probe) ?? [];
      comments.delete(probe);
      if (!Array.isArray(res)) {
        runRewrite(f, st, sel, i);
        return;
      }
      let first: string | undefined;
      for (const cfg of res) {
        const name = addTransform(`${st.label}-${alias(f) ?? plugin}`, cfg, st.upstream);
        first ??= name;
        st.upstream = [name];
      }
      const target = first ? `transforms.${first}` : lastComp();
      if (first)
        comment(target, `from [FILTER] ${plugin} (${at(f)}), Match ${v(f, 'match') ?? v(f, 'match_regex')}`);
      for (const c of probeComments) comment(target, first ? c : `[FILTER] ${plugin} (${at(f)}): ${c}`);
      void before;
    }
    ends.push({ stream: st, names: st.upstream });
  };

  const runRewrite = (f: FbSection, st: Stream, sel: Sel, i: number) => {
    const comp = `transforms.?rw${i}`;
    const rules = getAll(f, 'rule');
    const handledKeys = new Set(['rule', 'emitter_name', 'emitter_storage.type', 'emitter_mem_buf_limit']);
    const prior: string[] = [];
    const tagCond = sel === 'some' ? tagCondition(f, st) : undefined;
    const dropConds: string[] = [];
    for (const e of rules) {
      const t = tokenize(val(e) ?? '');
      if (t.length < 4) {
        note('untranslated', e, `Rule ${e.value}: expected $KEY REGEX NEW_TAG KEEP`, comp);
        continue;
      }
      const [key, re, newTagRaw, keepRaw] = t;
      const js = onigmoToJs(re);
      if (js.error) {
        note('untranslated', e, `Rule: the regex does not compile in JavaScript (${js.error})`, comp);
        continue;
      }
      const hit = `${fieldRef(key, st)} like ${regexLit(js.source)}`;
      const tagParts = st.tag.split('.');
      let dynamic = false;
      const newTag = newTagRaw
        .replace(/\$TAG\[(\d+)\]/g, (_, n: string) => tagParts[Number(n)] ?? '')
        .replace(/\$TAG/g, st.tag)
        .replace(/\$\d+|\$[A-Za-z_][\w[\]'"]*/g, () => {
          dynamic = true;
          return '*';
        });
      if (dynamic || st.pattern.includes('*'))
        note(
          'approximated',
          e,
          `Rule ${e.value}: the new tag depends on the record; routed as the pattern ${newTag}`,
          comp,
        );
      const conds = [tagCond, ...prior.map((p) => `not (${p})`), hit].filter((x): x is string => !!x);
      const cond = conds.map((c) => (conds.length > 1 ? `(${c})` : c)).join(' and ');
      prior.push(hit);
      const keep = parseBool(keepRaw) ?? false;
      if (!keep) dropConds.push(cond);
      if (st.depth >= 3) {
        note(
          'untranslated',
          e,
          'rewrite_tag: re-tagged records would be re-tagged again more than 3 times (a loop in Fluent Bit too); stopped here',
          comp,
        );
        continue;
      }
      const branchName = addTransform(
        `${st.label}-retag-${newTag.replace(/\*/g, 'x')}`,
        { type: 'filter', condition: cond },
        st.upstream,
      );
      comment(
        `transforms.${branchName}`,
        `from [FILTER] rewrite_tag (${at(e)}): records re-tagged ${newTag}${keep ? ' (a copy; the original goes on)' : ''}`,
      );
      runStream({
        label: newTag.replace(/\*/g, 'x'),
        upstream: [branchName],
        tag: newTag,
        pattern: newTag.includes('*') ? newTag : newTag,
        messageKeys: new Set(st.messageKeys),
        start: 0,
        depth: st.depth + 1,
      });
    }
    rest(f, handledKeys, comp);
    const probeComments = comments.get(comp) ?? [];
    comments.delete(comp);
    if (dropConds.length) {
      const name = addTransform(
        `${st.label}-not-retagged`,
        { type: 'filter', exclude: dropConds.map((c) => (dropConds.length > 1 ? `(${c})` : c)).join(' or ') },
        st.upstream,
      );
      st.upstream = [name];
      comment(
        `transforms.${name}`,
        `from [FILTER] rewrite_tag (${at(f)}): records re-tagged without KEEP leave this chain`,
      );
      for (const c of probeComments) comment(`transforms.${name}`, c);
    } else for (const c of probeComments) comment(`sources.${st.upstream[0]}`, c);
    st.start = i + 1;
    runStream(st);
  };

  const alias = (s: FbSection) => v(s, 'alias');

  // Inputs that meet the same filters (and have the same input parser) share one chain.
  const groups = new Map<string, SourcePlan[]>();
  for (const sp of sourcePlans) {
    const probe: Stream = {
      label: sp.name,
      upstream: [sp.name],
      tag: sp.tag,
      pattern: sp.pattern,
      messageKeys: sp.messageKeys,
      start: 0,
      depth: 0,
    };
    const sig = filters.map((f) => selects(f, probe, `sources.${sp.name}`)).join(',');
    const key = `${sp.headKey}|${[...sp.messageKeys].join(',')}|${sp.pattern.includes('*') ? sp.pattern : sp.tag}|${sig}`;
    const g = groups.get(key) ?? [];
    g.push(sp);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const label = g.length === 1 ? g[0].name : `${g[0].name}-and-${g.length - 1}-more`;
    const st: Stream = {
      label,
      upstream: g.map((x) => x.name),
      tag: g[0].tag,
      pattern: g[0].pattern,
      tagExpr: g[0].tagExpr,
      messageKeys: new Set(g[0].messageKeys),
      start: 0,
      depth: 0,
    };
    for (const cfg of g[0].head) {
      const name = addTransform(
        `${label}-${cfg.type === 'parse' ? 'parser' : String(cfg.type)}`,
        cfg,
        st.upstream,
      );
      comment(
        `transforms.${name}`,
        `from the Parser of [INPUT] ${pluginName(g[0].section)} (${at(g[0].section)})`,
      );
      st.upstream = [name];
    }
    if (g[0].head.length > 0 && g[0].messageKeys.size === 0) parsedAway.add(label);
    runStream(st);
  }

  // ---- outputs → sinks ----------------------------------------------------------------------------
  const sinks: Record<string, Cfg> = {};
  const outputs = fb.sections.filter((x) => x.kind === 'output');
  for (const o of outputs) {
    const plugin = pluginName(o);
    if (!plugin) {
      note('untranslated', o, '[OUTPUT] without Name: ignored');
      continue;
    }
    const name = unique(alias(o) ?? plugin);
    const comp = `sinks.${name}`;
    const res = outputConfig(o, plugin, name, comp);
    if (!res) {
      usedNames.delete(name);
      continue;
    }
    // What it reads: the chain ends its Match selects.
    const inputs: string[] = [];
    for (const end of ends) {
      const sel = selects(o, end.stream, comp);
      if (sel === 'all') inputs.push(...end.names);
      else if (sel === 'some') {
        const r = addTransform(
          `${end.stream.label}-to-${name}`,
          { type: 'filter', condition: tagCondition(o, end.stream) },
          end.names,
        );
        comment(
          `transforms.${r}`,
          `routes the records of ${end.stream.label} whose tag [OUTPUT] ${plugin} (${at(o)}) matches (${v(o, 'match') ?? v(o, 'match_regex')})`,
        );
        inputs.push(r);
      }
    }
    const uniq = [...new Set(inputs)];
    if (uniq.length === 0) {
      note(
        'untranslated',
        o,
        `[OUTPUT] ${plugin}: Match ${v(o, 'match') ?? v(o, 'match_regex') ?? '(none)'} selects no input, so Fluent Bit sends nothing to it; left out`,
        'head',
      );
      usedNames.delete(name);
      continue;
    }
    comment(
      comp,
      `from [OUTPUT] ${plugin} (${at(o)}), Match ${v(o, 'match') ?? v(o, 'match_regex') ?? '(none)'}`,
    );
    sinks[name] = { ...res, inputs: uniq };
  }

  function outputConfig(o: FbSection, plugin: string, name: string, comp: string): Cfg | undefined {
    const handled = new Set<string>();
    const h = (...k: string[]) => {
      for (const x of k) handled.add(x);
    };
    const tls = () => parseBool(v(o, 'tls')) === true;
    const url = (defPort: string, path = '') => {
      h('host', 'port', 'tls', 'uri', 'path');
      const host = v(o, 'host') ?? '127.0.0.1';
      return `${tls() ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${v(o, 'port') ?? defPort}${path}`;
    };
    let cfg: Cfg | undefined;
    switch (plugin) {
      case 'es':
      case 'elasticsearch':
      case 'opensearch': {
        const path = (v(o, 'path') ?? '').replace(/\/$/, '');
        cfg = { type: 'opensearch', url: url('9200', path) };
        h(
          'index',
          'logstash_format',
          'logstash_prefix',
          'logstash_dateformat',
          'http_user',
          'http_passwd',
          'aws_auth',
          'aws_region',
          'aws_service_name',
          'compress',
          'pipeline',
          'generate_id',
          'suppress_type_name',
          'type',
          'replace_dots',
          'trace_error',
          'trace_output',
          'buffer_size',
          'current_time_index',
          'aws_sts_endpoint',
          'aws_role_arn',
        );
        const indexOf = (value: string, e: FbEntry | undefined): string => {
          const { template, changed } = indexTemplate(value);
          if (changed && e)
            note(
              'approximated',
              e,
              `${e.rawKey} ${value}: an index name holds only a-z 0-9 . _ - (OpenSearch refuses others); used ${template}`,
              comp,
            );
          if (template.includes('{fields.') && e)
            note(
              'info',
              e,
              `${e.rawKey} ${value}: the record accessor names the index per record (${template})`,
            );
          return template;
        };
        if (parseBool(v(o, 'logstash_format'))) {
          const prefix = v(o, 'logstash_prefix') ?? 'logstash';
          const df = v(o, 'logstash_dateformat') ?? '%Y.%m.%d';
          const conv = strftimeToIndex(df);
          if (!conv)
            note(
              'approximated',
              getEntry(o, 'logstash_dateformat') as FbEntry,
              `Logstash_DateFormat ${df}: only %Y %m %d %H translate; used YYYY.MM.dd`,
              comp,
            );
          cfg.index = `${indexOf(prefix, getEntry(o, 'logstash_prefix'))}-${conv ?? 'YYYY.MM.dd'}`;
          if (parseBool(v(o, 'current_time_index')))
            note(
              'approximated',
              getEntry(o, 'current_time_index') as FbEntry,
              'Current_Time_Index: logferry names indices by event time',
              comp,
            );
        } else cfg.index = indexOf(v(o, 'index') ?? 'fluent-bit', getEntry(o, 'index'));
        if (getEntry(o, 'logstash_prefix_key')) {
          h('logstash_prefix_key');
          const k = accessorSegments(v(o, 'logstash_prefix_key') ?? '').join('.');
          note(
            'approximated',
            getEntry(o, 'logstash_prefix_key') as FbEntry,
            `Logstash_Prefix_Key: the index prefix comes from the field ${k} ({fields.${k}}); records without it get the literal prefix in Fluent Bit, an empty one here`,
            comp,
          );
          cfg.index = `{fields.${k}}-${strftimeToIndex(v(o, 'logstash_dateformat') ?? '%Y.%m.%d') ?? 'YYYY.MM.dd'}`;
        }
        if (parseBool(v(o, 'aws_auth'))) {
          const svc = (v(o, 'aws_service_name') ?? 'es').toLowerCase();
          cfg.auth = {
            type: 'sigv4',
            service: svc === 'aoss' ? 'aoss' : 'es',
            ...(v(o, 'aws_region') ? { region: v(o, 'aws_region') } : {}),
          };
          noteEntry(
            'untranslated',
            o,
            'aws_role_arn',
            'AWS_Role_ARN: logferry signs with the default credential chain; assume the role in the environment (AWS_ROLE_ARN / a profile)',
            comp,
          );
        } else if (getEntry(o, 'http_user')) {
          const pw = getEntry(o, 'http_passwd');
          cfg.auth = {
            type: 'basic',
            username: v(o, 'http_user'),
            password: pw ? secretRef(pw, `FLB_${name}_HTTP_PASSWD`, comp, 'docs/opensearch.md') : '',
          };
          if (!pw)
            note('untranslated', getEntry(o, 'http_user') as FbEntry, 'HTTP_User without HTTP_Passwd', comp);
        }
        if ((v(o, 'compress') ?? '').toLowerCase() === 'gzip') cfg.compression = true;
        if (v(o, 'pipeline')) cfg.pipeline = v(o, 'pipeline');
        for (const k of [
          'suppress_type_name',
          'type',
          'replace_dots',
          'trace_error',
          'trace_output',
          'buffer_size',
          'generate_id',
        ])
          noteEntry(
            'ignored',
            o,
            k,
            (e) =>
              `${e.rawKey}: ${k === 'generate_id' ? 'logferry always sets a stable _id from the event id' : k === 'replace_dots' ? 'logferry keeps dotted keys as written' : 'not needed by logferry'}`,
            comp,
          );
        if (getEntry(o, 'cloud_id')) {
          h('cloud_id', 'cloud_auth');
          note(
            'untranslated',
            getEntry(o, 'cloud_id') as FbEntry,
            'Cloud_ID: write the Elastic Cloud endpoint URL as host instead',
            comp,
          );
          if (getEntry(o, 'cloud_auth'))
            secretRef(
              getEntry(o, 'cloud_auth') as FbEntry,
              `FLB_${name}_CLOUD_AUTH`,
              comp,
              'docs/opensearch.md',
            );
        }
        break;
      }
      case 's3': {
        h(
          'bucket',
          's3_key_format',
          'total_file_size',
          'upload_timeout',
          'region',
          'endpoint',
          'compression',
          'use_put_object',
          'store_dir',
          'content_type',
          'log_key',
          's3_key_format_tag_delimiters',
          'upload_chunk_size',
        );
        const bucket = v(o, 'bucket');
        if (!bucket) {
          note('untranslated', o, 's3 output without bucket', 'head');
          return undefined;
        }
        const fmt = v(o, 's3_key_format') ?? '/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S';
        const segs = fmt.split('/').filter(Boolean);
        const prefix: string[] = [];
        const tmpl: string[] = [];
        const dropped: string[] = [];
        for (const s of segs) {
          const hasPh = /[%$]/.test(s);
          if (!hasPh && tmpl.length === 0) {
            prefix.push(s);
            continue;
          }
          const conv = s.replace(
            /%([YmdH])/g,
            (_, d: string) => ({ Y: '${year}', m: '${month}', d: '${day}', H: '${hour}' })[d] as string,
          );
          if (/[%]|\$(?!\{)/.test(conv)) dropped.push(s);
          else tmpl.push(conv);
        }
        cfg = {
          type: 's3',
          url: `s3://${bucket}${prefix.length ? `/${prefix.join('/')}` : ''}`,
          format: v(o, 'log_key') ? 'raw' : 'ndjson',
        };
        if (tmpl.length) cfg.keyTemplate = tmpl.join('/');
        if (dropped.length)
          note(
            'approximated',
            getEntry(o, 's3_key_format') ?? o,
            `s3_key_format ${fmt}: ${dropped.join(', ')} left out (logferry keys take \${year} \${month} \${day} \${hour} and name objects <objectName>-<time>-<hash>.gz itself)`,
            comp,
          );
        const size = parseSize(v(o, 'total_file_size') ?? '100M');
        if (size) cfg.maxBytes = Math.min(size, 5 * 1024 ** 3);
        const ut = parseDurationMs(v(o, 'upload_timeout') ?? '10m');
        if (ut) cfg.maxAgeMs = ut;
        if (v(o, 'region')) cfg.region = v(o, 'region');
        if (v(o, 'endpoint')) cfg.endpoint = v(o, 'endpoint');
        const comp2 = (v(o, 'compression') ?? '').toLowerCase();
        if (comp2 !== 'gzip')
          note(
            'approximated',
            getEntry(o, 'compression') ?? o,
            `compression ${comp2 || '(none)'}: logferry always writes gzip objects`,
            comp,
          );
        const lk = getEntry(o, 'log_key');
        if (lk)
          note(
            'approximated',
            lk,
            `log_key ${lk.value}: logferry's raw format writes the record's message (@message) and a newline`,
            comp,
          );
        for (const k of ['use_put_object', 'store_dir', 'upload_chunk_size', 'content_type'])
          noteEntry(
            'ignored',
            o,
            k,
            (e) => `${e.rawKey}: logferry writes each object with one PUT from memory`,
            comp,
          );
        break;
      }
      case 'kinesis_firehose':
      case 'firehose': {
        h('delivery_stream', 'region', 'endpoint', 'time_key', 'time_key_format', 'compression');
        const ds = v(o, 'delivery_stream');
        if (!ds) {
          note('untranslated', o, `${plugin} output without delivery_stream`, 'head');
          return undefined;
        }
        cfg = { type: 'firehose', deliveryStreamName: ds };
        if (v(o, 'region')) cfg.region = v(o, 'region');
        if (v(o, 'endpoint')) cfg.endpoint = v(o, 'endpoint');
        noteEntry('untranslated', o, 'time_key', 'time_key: logferry records carry @timestamp', comp);
        noteEntry(
          'untranslated',
          o,
          'compression',
          'compression: the firehose sink sends records uncompressed',
          comp,
        );
        break;
      }
      case 'http': {
        h('format', 'header', 'http_user', 'http_passwd', 'compress', 'json_date_key', 'json_date_format');
        const uri = v(o, 'uri') ?? '/';
        cfg = { type: 'http', flavor: 'ndjson', url: `${url('80')}${uri.startsWith('/') ? uri : `/${uri}`}` };
        const format = (v(o, 'format') ?? 'msgpack').toLowerCase();
        if (format !== 'json_lines')
          note(
            'approximated',
            getEntry(o, 'format') ?? o,
            `Format ${format}: logferry's generic HTTP sink posts NDJSON (Fluent Bit's json_lines)`,
            comp,
          );
        const headers: Record<string, string> = {};
        for (const e of getAll(o, 'header')) {
          const kv = splitKeyValue(val(e) ?? '');
          if (!kv) continue;
          if (/^(authorization|x-api-key|api-key)$/i.test(kv[0])) {
            cfg.tokenHeader = kv[0];
            const m = /^(Bearer |Basic |Splunk |ApiKey )/i.exec(kv[1]);
            cfg.tokenPrefix = m ? m[1] : '';
            cfg.token = secretRef(e, `FLB_${name}_${kv[0]}`, comp, 'docs/http-sinks.md#credentials');
          } else headers[kv[0]] = kv[1];
        }
        if (Object.keys(headers).length) cfg.headers = headers;
        if (getEntry(o, 'http_user')) {
          const pw = getEntry(o, 'http_passwd') ?? (getEntry(o, 'http_user') as FbEntry);
          cfg.tokenHeader = 'Authorization';
          cfg.tokenPrefix = 'Basic ';
          const ref = `FLB_${name}_BASIC_AUTH`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
          cfg.token = `env:${ref}`;
          note(
            'secret',
            pw,
            `HTTP_User/HTTP_Passwd: not copied; put base64("${v(o, 'http_user')}:<password>") in the environment variable ${ref} (sent as Authorization: Basic …; docs/http-sinks.md#credentials)`,
            comp,
          );
        }
        if ((v(o, 'compress') ?? '').toLowerCase() === 'gzip') cfg.gzip = true;
        break;
      }
      case 'loki': {
        h(
          'tenant_id',
          'labels',
          'label_keys',
          'line_format',
          'http_user',
          'http_passwd',
          'bearer_token',
          'remove_keys',
          'auto_kubernetes_labels',
          'drop_single_key',
        );
        cfg = { type: 'http', flavor: 'loki', url: url('3100') };
        if (getEntry(o, 'uri') && v(o, 'uri') !== '/loki/api/v1/push')
          note(
            'approximated',
            getEntry(o, 'uri') as FbEntry,
            `uri ${v(o, 'uri')}: logferry posts to /loki/api/v1/push under the host`,
            comp,
          );
        if (v(o, 'tenant_id')) cfg.tenant = v(o, 'tenant_id');
        const statics: Record<string, string> = {};
        const labelsE = getEntry(o, 'labels');
        for (const l of splitList(v(o, 'labels') ?? '')) {
          const m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*(.*)$/.exec(l);
          if (m && !m[2].startsWith('$')) statics[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
          else
            note(
              'untranslated',
              labelsE as FbEntry,
              `labels ${l}: labels from record fields have no logferry equivalent (labels: logGroup, logStream, component, owner; staticLabels)`,
              comp,
            );
        }
        if (!labelsE && !getEntry(o, 'label_keys')) statics.job = 'fluent-bit';
        cfg.labels = [];
        cfg.staticLabels = statics;
        noteEntry(
          'untranslated',
          o,
          'label_keys',
          'label_keys: labels from record fields have no logferry equivalent',
          comp,
        );
        const lf = (v(o, 'line_format') ?? 'json').toLowerCase();
        cfg.line = 'json';
        if (lf !== 'json')
          note(
            'approximated',
            getEntry(o, 'line_format') as FbEntry,
            `line_format ${lf}: logferry writes json lines (or line: message for the raw text)`,
            comp,
          );
        if (parseBool(v(o, 'drop_single_key'))) cfg.line = 'message';
        const tok = getEntry(o, 'bearer_token');
        if (tok)
          cfg.token = secretRef(tok, `FLB_${name}_BEARER_TOKEN`, comp, 'docs/http-sinks.md#credentials');
        noteEntry(
          'untranslated',
          o,
          'http_user',
          'http_user/http_passwd: logferry sends a Bearer token to Loki (token: env:NAME); put Basic credentials in a proxy',
          comp,
        );
        for (const k of ['remove_keys', 'auto_kubernetes_labels'])
          if (getEntry(o, k))
            note('untranslated', getEntry(o, k) as FbEntry, `${k}: no logferry equivalent`, comp);
        break;
      }
      case 'splunk': {
        h(
          'splunk_token',
          'event_index',
          'event_sourcetype',
          'event_source',
          'event_host',
          'splunk_send_raw',
          'http_user',
          'http_passwd',
          'compress',
          'event_key',
          'event_field',
          'event_sourcetype_key',
          'event_index_key',
          'channel',
        );
        cfg = { type: 'http', flavor: 'splunk-hec', url: url('8088') };
        const tok = getEntry(o, 'splunk_token');
        if (tok)
          cfg.token = secretRef(tok, `FLB_${name}_SPLUNK_TOKEN`, comp, 'docs/http-sinks.md#credentials');
        else {
          cfg.token = `env:${`FLB_${name}_SPLUNK_TOKEN`.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
          note(
            'secret',
            o,
            `splunk without splunk_token: the HEC token is read from ${cfg.token} (docs/http-sinks.md#credentials)`,
            comp,
          );
        }
        if (v(o, 'event_index')) cfg.index = v(o, 'event_index');
        if (v(o, 'event_sourcetype')) cfg.sourcetype = v(o, 'event_sourcetype');
        if (v(o, 'event_source')) cfg.source = v(o, 'event_source');
        if (v(o, 'event_host')) cfg.host = v(o, 'event_host');
        if ((v(o, 'compress') ?? '').toLowerCase() === 'gzip') cfg.gzip = true;
        for (const k of [
          'splunk_send_raw',
          'event_key',
          'event_field',
          'event_sourcetype_key',
          'event_index_key',
          'channel',
          'http_user',
        ])
          if (!(k === 'splunk_send_raw' && parseBool(v(o, k)) === false))
            noteEntry(
              'untranslated',
              o,
              k,
              (e) => `${e.rawKey}: no logferry equivalent (the event is the message, or the parsed fields)`,
              comp,
            );
        break;
      }
      case 'stdout': {
        h('format', 'json_date_key', 'json_date_format');
        const f = (v(o, 'format') ?? 'msgpack').toLowerCase();
        cfg = { type: 'stdout', format: f === 'msgpack' ? 'pretty' : 'ndjson' };
        break;
      }
      case 'null':
        cfg = { type: 'blackhole' };
        break;
      case 'kinesis':
      case 'kinesis_streams': {
        // Fluent Bit's C `kinesis_streams` and the older Go `kinesis` plugin (seed 003's agents).
        h(
          'stream',
          'region',
          'endpoint',
          'partition_key',
          'append_newline',
          'time_key',
          'time_key_format',
          'log_key',
          'compression',
          'aggregation',
          'simple_aggregation',
          'data_keys',
          'replace_dots',
        );
        const stream = v(o, 'stream');
        if (!stream) {
          note('untranslated', o, `[OUTPUT] ${plugin} without stream`, 'head');
          return undefined;
        }
        cfg = { type: 'kinesis', stream };
        if (v(o, 'region')) cfg.region = v(o, 'region');
        if (v(o, 'endpoint')) cfg.endpoint = v(o, 'endpoint');
        const pk = v(o, 'partition_key');
        if (pk) {
          const segs = accessorSegments(pk);
          cfg.partitionKey = segs.length === 1 && segs[0] === 'log' ? '@message' : segs.join('.');
        }
        const logKey = v(o, 'log_key');
        if (logKey !== undefined) {
          cfg.format = 'raw';
          if (accessorSegments(logKey).join('.') !== 'log')
            note(
              'approximated',
              getEntry(o, 'log_key') ?? o,
              `log_key ${logKey}: the kinesis sink's raw format sends the message, not the field ${logKey}`,
              comp,
            );
        }
        noteEntry(
          'approximated',
          o,
          'append_newline',
          'append_newline: each Kinesis record is one JSON document without a trailing newline (consumers parse it as one line)',
          comp,
        );
        noteEntry('untranslated', o, 'time_key', 'time_key: logferry documents carry @timestamp', comp);
        noteEntry('ignored', o, 'time_key_format', 'time_key_format: @timestamp is ISO 8601', comp);
        noteEntry(
          'approximated',
          o,
          'compression',
          'compression: the kinesis sink sends records uncompressed (logferry consumers also read gzip/zlib records)',
          comp,
        );
        for (const k of ['aggregation', 'simple_aggregation'])
          if (parseBool(v(o, k)) === true)
            noteEntry('approximated', o, k, `${k}: one Kinesis record per log record (no aggregation)`, comp);
        noteEntry('untranslated', o, 'data_keys', 'data_keys: the whole record is sent', comp);
        noteEntry('untranslated', o, 'replace_dots', 'replace_dots: keys are sent as they are', comp);
        break;
      }
      default: {
        const hint: Record<string, string> = {
          cloudwatch_logs: 'logferry reads CloudWatch Logs; it does not write to it',
          cloudwatch: 'logferry reads CloudWatch Logs; it does not write to it',
          forward: 'no forward sink',
          file: 'use an s3 sink with a local directory url (file://./dir)',
          datadog: 'use an http sink (flavor ndjson) to the Datadog intake',
          kafka: 'no Kafka sink',
        };
        note(
          'untranslated',
          o,
          `[OUTPUT] ${plugin}: no logferry sink${hint[plugin] ? ` (${hint[plugin]})` : ''}`,
          'head',
        );
        for (const e of o.entries)
          if (AWS_KEY_KEYS.has(e.key)) rest({ ...o, entries: [e] }, new Set(), 'head');
        return undefined;
      }
    }
    rest(o, handled, comp);
    return cfg;
  }

  if (Object.keys(transforms).length) doc.transforms = transforms;
  if (Object.keys(sinks).length === 0 && ends.length > 0) {
    // Without any sink the records would go nowhere (logferry's default archive reads the sources,
    // not the transforms): a local archive of every chain end stands in until real sinks are added.
    const name = unique('archive');
    sinks[name] = {
      type: 's3',
      url: 'file://./logferry-data',
      format: 'ndjson',
      inputs: [...new Set(ends.flatMap((e) => e.names))],
    };
    comment(
      `sinks.${name}`,
      'stand-in: no [OUTPUT] translated, so every record is archived locally under ./logferry-data; replace it with your destinations',
    );
    note(
      'info',
      { file: fb.files[0] ?? 'config' },
      `no [OUTPUT] translated: added the sink ${name} (a local archive under ./logferry-data) reading every chain, to replace with real destinations`,
    );
  }
  if (Object.keys(sinks).length) doc.sinks = sinks;
  return { doc, comments, notes };
}

/** Fluent Bit `Match`: `*` is any run of characters; the pattern covers the whole tag. */
export function tagMatchesFb(pattern: string, tag: string): boolean {
  return new RegExp(tagPatternToRegex(pattern)).test(tag);
}

/** Whether every expansion of the `*`-pattern `tag` is matched by `pattern` (a `*` in the pattern spans it). */
function coversPattern(pattern: string, tag: string): boolean {
  // Replace each `*` of the tag by a marker the pattern can only consume with its own `*`.
  const marked = tag.replace(/\*/g, '\u0000');
  return new RegExp(tagPatternToRegex(pattern).replace(/\.\*/g, '[\\s\\S]*')).test(marked);
}
