/**
 * weft's `auth` module (being built).
 *
 * @module
 */
export {};
