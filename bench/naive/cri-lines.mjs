/**
 * The naive baseline of the file benches: what anyone would write in ten minutes to read CRI
 * container logs in Node — `fs.createReadStream` + `readline`, the CRI header cut with `indexOf`,
 * and `JSON.parse` of each message that opens with `{`. No partial-line reassembly, no offsets, no
 * records, no acknowledgements: a ceiling for "Node reading lines and decoding JSON", not a peer.
 *
 *   node bench/naive/cri-lines.mjs FILE…      → prints `{"lines":…,"json":…}` on stdout
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

let lines = 0;
let json = 0;
for (const path of process.argv.slice(2)) {
  const rl = createInterface({
    input: createReadStream(path, { highWaterMark: 256 * 1024 }),
    crlfDelay: Infinity,
  });
  for await (const line of rl) {
    lines++;
    const s1 = line.indexOf(' ');
    const s2 = line.indexOf(' ', s1 + 1);
    const msg = line.slice(s2 + 3);
    if (msg.charCodeAt(0) === 123) {
      try {
        JSON.parse(msg);
        json++;
      } catch {}
    }
  }
}
process.stdout.write(`${JSON.stringify({ lines, json })}\n`);
