/**
 * The query editor: CodeMirror 6 with Logs Insights highlighting (commands, functions, fields,
 * strings, regexes, numbers, durations, comments), autocomplete of commands after a pipe and of
 * functions, keywords and discovered fields elsewhere (fields with their types), inline errors at
 * the line/column the server reports, and Ctrl/Cmd-Enter to run.
 */
import {
  autocompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
  closeBrackets,
  completionKeymap,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { type Diagnostic, linter, lintGutter } from '@codemirror/lint';
import { EditorState, type Extension } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  keymap,
  lineNumbers,
  placeholder,
} from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import type { Field, Language, Problem } from './api.js';

interface LangState {
  /** True at the start of a command (start of query or after `|`). */
  atCommand: boolean;
}

export function logsInsightsLanguage(lang: Language): StreamLanguage<LangState> {
  const commands = new Set(lang.commands.map((c) => c.toLowerCase()));
  const functions = new Set(lang.functions.map((f) => f.name.toLowerCase()));
  const keywords = new Set(lang.keywords.map((k) => k.toLowerCase()));
  return StreamLanguage.define<LangState>({
    name: 'logs-insights',
    startState: () => ({ atCommand: true }),
    token(stream: StringStream, state: LangState): string | null {
      if (stream.eatSpace()) return null;
      const ch = stream.peek();
      if (ch === '#') {
        stream.skipToEnd();
        return 'comment';
      }
      if (ch === '|') {
        stream.next();
        state.atCommand = true;
        return 'separator';
      }
      if (ch === '"' || ch === "'") {
        stream.next();
        let esc = false;
        for (let c = stream.next(); c !== undefined && c !== null; c = stream.next()) {
          if (c === ch && !esc) break;
          esc = c === '\\' && !esc;
        }
        state.atCommand = false;
        return 'string';
      }
      if (ch === '`') {
        stream.next();
        stream.skipTo('`');
        stream.next();
        state.atCommand = false;
        return 'variableName';
      }
      if (ch === '/' && !state.atCommand) {
        // A regex literal where a value may start: /…/ with escapes, then flags.
        const before = stream.string.slice(0, stream.pos).trimEnd();
        if (
          /(^|[=(,~|]|\blike|\bnot|\bin|\bas|\band|\bor|\bparse|\bfilter)$/i.test(before) ||
          before === ''
        ) {
          stream.next();
          let esc = false;
          for (let c = stream.next(); c !== undefined && c !== null; c = stream.next()) {
            if (c === '/' && !esc) break;
            esc = c === '\\' && !esc;
          }
          stream.match(/^[a-z]*/);
          return 'regexp';
        }
      }
      if (stream.match(/^\d+(\.\d+)?(ms|s|m|h|d|w|mo|q|y)?\b/)) {
        state.atCommand = false;
        return 'number';
      }
      if (stream.match(/^@?[A-Za-z_][\w.@-]*/)) {
        const word = stream.current().toLowerCase();
        const wasCommand = state.atCommand;
        state.atCommand = false;
        if (wasCommand && commands.has(word)) return 'keyword';
        if (word.startsWith('@')) return 'propertyName';
        if (functions.has(word) && stream.match(/^\s*\(/, false)) return 'function';
        if (keywords.has(word)) return 'operatorKeyword';
        return 'variableName';
      }
      stream.next();
      return 'operator';
    },
    languageData: { commentTokens: { line: '#' } },
  });
}

const highlight = HighlightStyle.define([
  { tag: t.keyword, color: 'var(--syn-command)', fontWeight: '600' },
  { tag: t.operatorKeyword, color: 'var(--syn-keyword)' },
  { tag: t.function(t.variableName), color: 'var(--syn-function)' },
  { tag: t.propertyName, color: 'var(--syn-system)' },
  { tag: t.variableName, color: 'var(--syn-field)' },
  { tag: t.string, color: 'var(--syn-string)' },
  { tag: t.regexp, color: 'var(--syn-regex)' },
  { tag: t.number, color: 'var(--syn-number)' },
  { tag: t.comment, color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: t.separator, color: 'var(--syn-pipe)', fontWeight: '700' },
  { tag: t.operator, color: 'var(--syn-operator)' },
]);

/** Whether the cursor sits where a command name goes (start of query or right after a pipe). */
export function atCommandPosition(textBefore: string): boolean {
  const stripped = textBefore.replace(/#[^\n]*/g, '');
  const lastPipe = stripped.lastIndexOf('|');
  const segment = stripped.slice(lastPipe + 1);
  return /^\s*[A-Za-z]*$/.test(segment);
}

export function completionSource(lang: Language, fields: () => Field[]) {
  const commandOptions: Completion[] = lang.commands.map((c) => ({
    label: c,
    type: 'keyword',
    detail: 'command',
    apply: `${c} `,
  }));
  const fnOptions: Completion[] = lang.functions.map((f) => ({
    label: f.name,
    type: 'function',
    detail: `${f.kind === 'aggregate' ? 'aggregate' : 'function'} · ${f.min === f.max ? f.min : `${f.min}–${f.max < 0 ? '…' : f.max}`} arg${f.max === 1 ? '' : 's'}`,
    apply: `${f.name}(`,
  }));
  const kwOptions: Completion[] = lang.keywords.map((k) => ({
    label: k,
    type: 'keyword',
    detail: 'keyword',
  }));
  return (ctx: CompletionContext): CompletionResult | null => {
    const word = ctx.matchBefore(/@?[\w.]*$/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;
    const before = ctx.state.sliceDoc(0, word.from);
    if (atCommandPosition(before + word.text)) {
      return { from: word.from, options: commandOptions, validFor: /^[A-Za-z]*$/ };
    }
    const fieldOptions: Completion[] = fields().map((f) => ({
      label: /^[@A-Za-z_][\w.@]*$/.test(f.name) ? f.name : `\`${f.name}\``,
      type: 'variable',
      detail: f.type,
      boost: f.name.startsWith('@') ? 2 : 1,
    }));
    return {
      from: word.from,
      options: [...fieldOptions, ...fnOptions, ...kwOptions],
      validFor: /^@?[\w.]*$/,
    };
  };
}

/** Server problems (1-based line/column) as CodeMirror diagnostics. */
export function toDiagnostics(doc: EditorState['doc'], problems: Problem[]): Diagnostic[] {
  return problems.map((p) => {
    const lineNo = Math.min(Math.max(1, p.line), doc.lines);
    const line = doc.line(lineNo);
    const from = Math.min(line.from + Math.max(0, p.column - 1), line.to);
    const wordEnd = /^[^\s|]*/.exec(doc.sliceString(from, line.to))?.[0].length ?? 0;
    return {
      from,
      to: Math.max(from + wordEnd, Math.min(from + 1, line.to)),
      severity: 'error',
      message: p.message,
    };
  });
}

export interface EditorHooks {
  language: Language;
  fields: () => Field[];
  check: (text: string) => Promise<Problem[]>;
  onRun: () => void;
  onChange: (text: string) => void;
}

export function createEditor(parent: HTMLElement, doc: string, hooks: EditorHooks): EditorView {
  const extensions: Extension[] = [
    lineNumbers(),
    history(),
    drawSelection(),
    highlightActiveLine(),
    closeBrackets(),
    placeholder('fields @timestamp, @message | sort @timestamp desc | limit 20'),
    logsInsightsLanguage(hooks.language),
    syntaxHighlighting(highlight),
    autocompletion({ override: [completionSource(hooks.language, hooks.fields)], activateOnTyping: true }),
    linter(async (view) => toDiagnostics(view.state.doc, await hooks.check(view.state.doc.toString())), {
      delay: 350,
    }),
    lintGutter(),
    keymap.of([
      {
        key: 'Mod-Enter',
        run: () => {
          hooks.onRun();
          return true;
        },
      },
      ...completionKeymap,
      ...defaultKeymap,
      ...historyKeymap,
    ]),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) hooks.onChange(u.state.doc.toString());
    }),
    EditorView.contentAttributes.of({ 'aria-label': 'Logs Insights query', 'data-testid': 'query-editor' }),
    EditorView.lineWrapping,
  ];
  return new EditorView({ parent, state: EditorState.create({ doc, extensions }) });
}

export function setEditorText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
