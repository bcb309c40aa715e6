/**
 * The site's tsconfig `paths` resolve in both routers' builds, as under `next build`
 * (https://nextjs.org/docs/app/getting-started/installation#set-up-absolute-imports-and-module-path-aliases).
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { prerenderDirOf } from '../../src/site/manifest.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-tsconfig-paths');
after(() => trees.cleanup());

const TSCONFIG = JSON.stringify({ compilerOptions: { jsx: 'react-jsx', baseUrl: '.', paths: { '~lib/*': ['./shared/lib/*'] } } });

describe('tsconfig paths', () => {
  it('resolve in app/ and pages/', async () => {
    const dir = trees.site({
      'tsconfig.json': TSCONFIG,
      'shared/lib/words.ts': "export const word = 'aliased-word';\n",
      'app/layout.tsx':
        'export default function L({ children }: { children: React.ReactNode }) { return <html><body>{children}</body></html>; }\n',
      'app/page.tsx': 'import { word } from \'~lib/words\';\nexport default function P() { return <p id="w">{word}</p>; }\n',
      'pages/legacy.tsx': 'import { word } from \'~lib/words\';\nexport default function L() { return <p id="w">{word} legacy</p>; }\n',
    });
    const result = await build({ siteDir: dir, logger: createMemoryLogger() });
    const store = new FileSystemStore({ dir: prerenderDirOf(result.buildDir), readOnly: true });
    const html = async (key: string) => new TextDecoder().decode((await store.get(key))?.value.body);
    assert.match(await html('/'), /<p id="w">aliased-word<\/p>/);
    assert.match(await html('/legacy'), /<p id="w">aliased-word<!-- --> legacy<\/p>/);
    await store.close?.();
  });
});
