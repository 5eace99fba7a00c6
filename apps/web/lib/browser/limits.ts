/** Limits on what a person can drop into the browser pages (checked before anything is decoded). */

/** Image types the pages accept. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'] as const;
/** Largest single image accepted (bytes). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Most images predicted at once. */
export const MAX_PREDICT_FILES = 50;
/** Most images accepted for in-browser training. */
export const MAX_TRAIN_FILES = 5000;

const EXT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
};

/** The image type of a file from its MIME type, else its extension; null when it is not an accepted image. */
export function imageType(name: string, type: string): string | null {
  if ((IMAGE_TYPES as readonly string[]).includes(type)) return type;
  if (type && type !== 'application/octet-stream') return null;
  const ext = name.split('.').pop()?.toLowerCase() ?? '';
  return EXT_TYPES[ext] ?? null;
}

/** Why a file is refused, or null when it is accepted. */
export function rejectReason(f: { name: string; type: string; size: number }): string | null {
  if (!imageType(f.name, f.type)) return `${f.name}: not an image (accepted: JPEG, PNG, WebP, GIF, BMP)`;
  if (f.size === 0) return `${f.name}: the file is empty`;
  if (f.size > MAX_IMAGE_BYTES)
    return `${f.name}: ${(f.size / 1048576).toFixed(1)} MB is over the ${MAX_IMAGE_BYTES / 1048576} MB limit`;
  return null;
}
