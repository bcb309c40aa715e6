/**
 * The ceiling: a bare `node:http` server that answers every request with the same bytes and the
 * same headers isr sends for a HIT, from a constant Buffer and a constant header object. The gap
 * between it and isr is what isr's own logic costs on top of Node's HTTP stack.
 *
 * Run as a child process: `node ceiling.ts <port> <body-file> <headers-json>` (via tsx).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, bodyFile, headersJson] = process.argv.slice(2);
if (port === undefined || bodyFile === undefined || headersJson === undefined) {
  throw new Error('usage: ceiling.ts <port> <body-file> <headers-json>');
}
const body = readFileSync(bodyFile);
const headers: Record<string, string> = { ...JSON.parse(headersJson), 'content-length': String(body.byteLength) };
createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(port), '127.0.0.1');
