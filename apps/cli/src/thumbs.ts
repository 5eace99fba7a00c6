/**
 * Small JPEG thumbnails of a run's validation and test images (`thumbs/valid/<i>.jpg`, `thumbs/test/<row>.jpg`), so
 * that the dashboard can show them without reading the data folder (see apps/web/RUN_FORMAT.md).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/** Longest side of a thumbnail, in pixels. */
export const THUMB_SIZE = 160;

/**
 * Writes `<outDir>/<i>.jpg` for each file (EXIF-oriented, at most 160 px on the long side, quality 80).
 * Returns the index of each file whose thumbnail was written; a file that cannot be read is left out.
 */
export async function writeThumbnails(files: readonly string[], outDir: string, concurrency = 4): Promise<Set<number>> {
  await mkdir(outDir, { recursive: true });
  const written = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        await sharp(files[i]!, { failOn: 'none' })
          .rotate()
          .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 80 })
          .toFile(join(outDir, `${i}.jpg`));
        written.add(i);
      } catch {
        // A missing thumbnail only means the dashboard shows none for that item.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return written;
}
