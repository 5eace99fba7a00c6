/** The @fastts/core version. */
export const VERSION = '0.1.0';
