/**
 * Statically imported images (`import photo from './photo.jpg'`), as Next.js gives them
 * (https://nextjs.org/docs/app/api-reference/components/image#src): the import is an object
 * `{ src, width, height, blurDataURL, blurWidth, blurHeight }` that `next/image` sizes itself from,
 * and the file is copied, content-hashed, to `<build>/client/static/media/`, served at
 * `/_isr/static/media/<name>.<hash>.<ext>` as immutable. All three compilers (the App Router's, and
 * the Pages Router's server and browser bundles) share one instance, so an image has one URL.
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { SiteError } from '../config/errors.ts';
import { CLIENT_URL_PREFIX } from '../site/manifest.ts';

/** The file names imported as images. */
export const STATIC_IMAGE = /\.(png|jpe?g|gif|webp|avif|ico|bmp|svg)$/i;

/** The folder of the copies under `<build>/client`. */
const MEDIA_DIR = 'static/media';
/** The largest side of a blur placeholder, in pixels (as Next.js). */
const BLUR_SIZE = 8;

interface StaticImage {
  /** Path under `<build>/client`. */
  file: string;
  body: Buffer;
  source: string;
}

export class StaticImages {
  private readonly images = new Map<string, Promise<StaticImage>>();

  /** @param urlPrefix where `<build>/client` is served (`/_isr/`, or `/docs/_isr/` under a `basePath`). */
  constructor(private readonly urlPrefix = CLIENT_URL_PREFIX) {}

  /**
   * The module an import of the image `file` (absolute) becomes.
   * @throws Error naming the file when it cannot be read or is not an image sharp can measure.
   */
  async module(file: string): Promise<string> {
    let image = this.images.get(file);
    if (image === undefined) this.images.set(file, (image = this.load(file)));
    return (await image).source;
  }

  private async load(file: string): Promise<StaticImage> {
    const body = await readFile(file);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
    const extension = path.extname(file).toLowerCase();
    const name = path.basename(file, path.extname(file));
    const relative = `${MEDIA_DIR}/${name}.${hash}${extension}`;
    let metadata: sharp.Metadata;
    try {
      metadata = await sharp(body).metadata();
    } catch (error) {
      throw new SiteError(`${file}: cannot read the image's size (${(error as Error).message})`);
    }
    const width = metadata.autoOrient?.width ?? metadata.width ?? 0;
    const height = metadata.autoOrient?.height ?? metadata.height ?? 0;
    const data: Record<string, unknown> = { src: `${this.urlPrefix}${relative}`, height, width };
    if (['.png', '.jpg', '.jpeg', '.webp', '.avif'].includes(extension) && width > 0 && height > 0) {
      const scale = BLUR_SIZE / Math.max(width, height);
      const blurWidth = Math.max(1, Math.round(width * scale));
      const blurHeight = Math.max(1, Math.round(height * scale));
      const blur = await sharp(body).rotate().resize(blurWidth, blurHeight).png().toBuffer();
      Object.assign(data, { blurDataURL: `data:image/png;base64,${blur.toString('base64')}`, blurWidth, blurHeight });
    }
    return { file: relative, body, source: `export default ${JSON.stringify(data)};\n` };
  }

  /** Writes every imported image into `clientDir` (`<build>/client`). */
  async writeTo(clientDir: string): Promise<void> {
    for (const image of this.images.values()) {
      const { file, body } = await image;
      await mkdir(path.dirname(path.join(clientDir, file)), { recursive: true });
      await writeFile(path.join(clientDir, file), body);
    }
  }
}
