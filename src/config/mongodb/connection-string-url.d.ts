/**
 * Types for the MongoDB driver's own URL parser. Its version 3 (the one the driver depends on)
 * ships typings that NodeNext resolution cannot reach through its package "exports"; these are
 * the members dbdoctor uses, as that package declares them (lib/index.d.ts).
 */
declare module 'mongodb-connection-string-url' {
  export class ConnectionString {
    constructor(uri: string, options?: { looseValidation?: boolean });
    get hosts(): string[];
    set hosts(list: string[]);
    get isSRV(): boolean;
    username: string;
    password: string;
    pathname: string;
    readonly searchParams: URLSearchParams;
    clone(): ConnectionString;
    toString(): string;
  }
}
