/**
 * `URLs`: fast.ai's names for its image data sets (fastai/data/external.py, `class URLs`), plus the tutorial's
 * data set. Pass one to {@link untarData} as fast.ai's `untar_data(URLs.PETS)`.
 */
import { DORAEMON_WALLE_URL } from './doraemon-walle-files.js';

const S3 = 'https://s3.amazonaws.com/fast-ai-';
const SAMPLE = `${S3}sample/`;
const S3_IMAGE = `${S3}imageclas/`;

/** Download URLs of the registered data sets, under fast.ai's names (`URLs.PETS`, `URLs.IMAGENETTE_160`, ...). */
export const URLs = {
  /** Oxford-IIIT Pet: 37 cat and dog breeds (labels in the file names, `images/`). */
  PETS: `${S3_IMAGE}oxford-iiit-pet.tgz`,
  /** Imagenette: 10 easily told apart ImageNet classes, full size (`train/`, `val/`). */
  IMAGENETTE: `${S3_IMAGE}imagenette2.tgz`,
  /** Imagenette, shortest side 160 px. */
  IMAGENETTE_160: `${S3_IMAGE}imagenette2-160.tgz`,
  /** Imagenette, shortest side 320 px. */
  IMAGENETTE_320: `${S3_IMAGE}imagenette2-320.tgz`,
  /** Imagewoof: 10 dog breeds from ImageNet, full size (`train/`, `val/`). */
  IMAGEWOOF: `${S3_IMAGE}imagewoof2.tgz`,
  /** Imagewoof, shortest side 160 px. */
  IMAGEWOOF_160: `${S3_IMAGE}imagewoof2-160.tgz`,
  /** Imagewoof, shortest side 320 px. */
  IMAGEWOOF_320: `${S3_IMAGE}imagewoof2-320.tgz`,
  /** MNIST 3s and 7s (`train/`, `valid/`). */
  MNIST_SAMPLE: `${SAMPLE}mnist_sample.tgz`,
  /** A tiny MNIST 3s and 7s subset (`train/`, `valid/`, `test/`). */
  MNIST_TINY: `${SAMPLE}mnist_tiny.tgz`,
  /** MNIST tiny with images of varying sizes. */
  MNIST_VAR_SIZE_TINY: `${S3_IMAGE}mnist_var_size_tiny.tgz`,
  /** MNIST, all ten digits, as PNG files. */
  MNIST: `${S3_IMAGE}mnist_png.tgz`,
  /** CIFAR-10: 60,000 32x32 images in 10 classes (`train/`, `test/`). */
  CIFAR: `${SAMPLE}cifar10.tgz`,
  /** CIFAR-100: 100 classes of 32x32 images. */
  CIFAR_100: `${S3_IMAGE}cifar100.tgz`,
  /** Caltech 101: 101 object categories. */
  CALTECH_101: `${S3_IMAGE}caltech_101.tgz`,
  /** Stanford Cars: 196 car models. */
  CARS: `${S3_IMAGE}stanford-cars.tgz`,
  /** Caltech-UCSD Birds 200-2011: 200 bird species. */
  CUB_200_2011: `${S3_IMAGE}CUB_200_2011.tgz`,
  /** Oxford 102 Flowers: 102 flower species. */
  FLOWERS: `${S3_IMAGE}oxford-102-flowers.tgz`,
  /** Food-101: 101 dishes, 101,000 images. */
  FOOD: `${S3_IMAGE}food-101.tgz`,
  /** Dogs vs cats, as the fast.ai course laid it out (`train/`, `valid/`). */
  DOGS: `${SAMPLE}dogscats.tgz`,
  /** The seed tutorial's Doraemon vs WALL-E images: GitHub's archive of a pinned commit. */
  DORAEMON_WALLE: DORAEMON_WALLE_URL,
} as const;

/** One of fast.ai's data set names (`'PETS'`, `'IMAGENETTE_160'`, ...). */
export type DatasetKey = keyof typeof URLs;
