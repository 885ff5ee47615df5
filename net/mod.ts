/**
 * weft's `net` module (being built).
 *
 * @module
 */
export {};
