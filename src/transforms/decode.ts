/**
 * `decode` transform (Fluent Bit's `Decode_Field_As` / `Decode_Field`): decodes one string field in
 * place — `as: escaped` (`\n`, `\"`, `\uXXXX`, …), `escaped-utf8` (also `\xNN` UTF-8 byte runs) or
 * `json` (a JSON object/array held in a string becomes structure, e.g. Docker's `log` field or an
 * app that logs `"payload": "{\"id\": 7}"`). `into` writes the result elsewhere and keeps the field;
 * `merge: true` (json only) merges a decoded object into the top level instead (Fluent Bit's
 * `Decode_Field json`). `field` may be `@message` only with `into` or `merge` (the message text is
 * never rewritten). A field that is missing, not a string or does not decode is left as it is
 * (`onError: annotate` adds `@decodeError`). Never drops a record.
 */
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import { decodeEscaped, decodeJsonString } from '../parsers/decoders.js';
import { fieldPath, writableFieldSchema } from './common.js';

export const decodeSchema = z
  .strictObject({
    type: z.literal('decode'),
    field: z.string().min(1),
    as: z.enum(['escaped', 'escaped-utf8', 'json']),
    into: writableFieldSchema.optional(),
    merge: z.boolean().default(false),
    onError: z.enum(['keep', 'annotate']).default('keep'),
  })
  .superRefine((o, ctx) => {
    if (o.merge && o.as !== 'json')
      ctx.addIssue({ code: 'custom', path: ['merge'], message: 'merge works with as: json only' });
    if (o.merge && o.into)
      ctx.addIssue({ code: 'custom', path: ['into'], message: 'use into or merge, not both' });
    if (o.field.startsWith('@') && o.field !== '@message')
      ctx.addIssue({
        code: 'custom',
        path: ['field'],
        message: `only @message among the system fields can be decoded (got ${o.field})`,
      });
    if (o.field === '@message' && !o.into && !o.merge)
      ctx.addIssue({
        code: 'custom',
        path: ['field'],
        message: 'decoding @message needs into or merge: the message text is never rewritten',
      });
  });

export type DecodeOptions = z.output<typeof decodeSchema>;

export function createDecodeTransform(cfg: DecodeOptions): Transform {
  const fromMessage = cfg.field === '@message';
  const src = fieldPath(cfg.field);
  const dst = cfg.into === undefined ? src : fieldPath(cfg.into);
  const decode =
    cfg.as === 'json'
      ? decodeJsonString
      : cfg.as === 'escaped'
        ? (s: string) => decodeEscaped(s, false)
        : (s: string) => decodeEscaped(s, true);
  const { merge, onError } = cfg;
  return {
    type: 'decode',
    apply(record) {
      const v = fromMessage ? record.message : src.get(record.fields);
      if (typeof v !== 'string') return record;
      const d = decode(v);
      if (d === undefined || (merge && (typeof d !== 'object' || d === null || Array.isArray(d)))) {
        if (onError === 'annotate')
          record.fields['@decodeError'] =
            `${cfg.as}: ${cfg.field} does not hold ${merge ? 'a JSON object' : cfg.as === 'json' ? 'JSON' : 'text'}`;
        return record;
      }
      if (merge) {
        if (!fromMessage) src.remove(record.fields);
        const o = d as Record<string, unknown>;
        for (const k of Object.keys(o)) if (k !== '__proto__') record.fields[k] = o[k];
      } else dst.set(record.fields, d, true);
      return record;
    },
  };
}
