/** Rule 7: POST /_isr/revalidate, against the real server. */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { safeEqual } from '../../src/serve/bearer.ts';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
before(async () => {
  f = await startFixtureServer();
});
after(async () => {
  await f.close();
});

const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
  request(f, '/_isr/revalidate', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('rule 7: the revalidation endpoint', () => {
  test('401 without a token, with a wrong one, a prefix of the right one, or another scheme — and nothing is revalidated', async () => {
    const before = f.api.callsFor('1');
    for (const authorization of [undefined, 'Bearer nope', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const response = await post('{"tags":["items"]}', authorization === undefined ? {} : { authorization });
      assert.equal(response.status, 401, String(authorization));
      assert.ok(!response.text.includes(TOKEN), 'the token is never echoed');
    }
    assert.equal((await request(f, '/items/1')).headers.get('x-isr-cache'), 'HIT');
    assert.equal(f.api.callsFor('1'), before);
  });

  test('400 with a clear message for malformed bodies', async () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[]', /JSON object/],
      ['{}', /at least one path or tag/],
      ['{"paths": "/items/1"}', /"paths" must be an array/],
      ['{"tags": [""]}', /tags\[0\].*non-empty/],
      ['{"tags": ["_N_T_/x"]}', /tags\[0\].*reserved/],
      ['{"paths": ["items/1"]}', /paths\[0\].*starting with "\/"/],
      ['{"paths": ["/items/[id]"]}', /paths\[0\].*dynamic segment/],
      ['{"paths": [{"path": "/items", "type": "everything"}]}', /paths\[0\].*"page" or "layout"/],
      ['{"tags": ["x"], "purge": true}', /unknown field "purge"/],
      [JSON.stringify({ tags: Array.from({ length: 10_001 }, (_, i) => `t${i}`) }), /too many/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      assert.equal(response.status, 400, body.slice(0, 60));
      assert.match(JSON.parse(response.text).error, message, body.slice(0, 60));
    }
  });

  test('413 for a body over 1 MiB, 405 for GET', async () => {
    const big = JSON.stringify({ tags: ['x'], pad: 'y'.repeat(1024 * 1024) });
    assert.equal((await post(big)).status, 413);
    const getResponse = await request(f, '/_isr/revalidate');
    assert.equal(getResponse.status, 405);
    assert.equal(getResponse.headers.get('allow'), 'POST');
  });

  test('200 with what was revalidated; the next request renders fresh content', async () => {
    f.api.items.set('1', 'one edited');
    const response = await post(JSON.stringify({ paths: ['/items/1', { path: '/docs', type: 'layout' }], tags: ['items'] }));
    assert.equal(response.status, 200);
    const body = JSON.parse(response.text);
    assert.equal(body.revalidated, true);
    assert.deepEqual(body.paths, ['/items/1', { path: '/docs', type: 'layout' }]);
    assert.deepEqual(body.tags, ['items']);
    assert.equal(typeof body.now, 'number');
    const next = await request(f, '/items/1');
    assert.equal(next.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(next.text), 'one edited');
  });

  test('thousands of paths in one request are accepted within the limit', async () => {
    const paths = Array.from({ length: 5000 }, (_, i) => `/items/${i}`);
    const response = await post(JSON.stringify({ paths }));
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.text).paths.length, 5000);
  });

  test('without a configured token the endpoint is disabled (401) whatever is sent', async () => {
    const g = await startFixtureServer({ revalidateToken: undefined });
    try {
      delete process.env.ISR_REVALIDATE_TOKEN;
      const response = await request(g, '/_isr/revalidate', {
        method: 'POST',
        headers: { authorization: 'Bearer anything-at-all' },
        body: '{"tags":["items"]}',
      });
      assert.equal(response.status, 401);
      assert.match(JSON.parse(response.text).error, /ISR_REVALIDATE_TOKEN/);
    } finally {
      await g.close();
    }
  });

  test('the token comparison is by value, whatever the lengths', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', 'a'), false);
  });
});
