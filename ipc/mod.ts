/**
 * weft's `ipc` module (being built).
 *
 * @module
 */
export {};
