/**
 * Rendering without a platform: image grids as SVG (tiles embedded as PNG via fast-png), `showBatch`'s grid.
 * Platforms rasterize the SVG (Node: `svgToPng`).
 */
export { escapeXml, imageGridSvg, type GridTile, type ImageGridOptions } from './image-grid.js';
export { bytesToBase64, encodePng, pngDataUri, tensorToImages } from './png.js';
export { batchTiles, showBatchSvg, type ShowBatchOptions } from './show-batch.js';
