/**
 * The translated document as YAML, with each component's provenance and what did not translate
 * written as comments right above it (and document-level notes at the head).
 */
import { Document, isMap, isScalar, type Pair, type YAMLMap } from 'yaml';
import type { Translation } from './translate.js';

export function emitYaml(t: Translation, header: string[]): string {
  const doc = new Document(t.doc);
  const head = [...header, ...(t.comments.get('head') ?? [])];
  doc.commentBefore = head.map((l) => ` ${l}`).join('\n');
  const root = doc.contents as YAMLMap;
  for (const section of ['sources', 'transforms', 'sinks'] as const) {
    const map = root.get(section, true);
    if (!isMap(map)) continue;
    for (const pair of map.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const lines = t.comments.get(`${section}.${key}`);
      if (!lines?.length) continue;
      const text = lines.map((l) => ` ${l}`).join('\n');
      if (isScalar(pair.key)) pair.key.commentBefore = text;
      else {
        const k = doc.createNode(key);
        k.commentBefore = text;
        pair.key = k;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}
