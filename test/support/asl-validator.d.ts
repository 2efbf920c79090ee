/** asl-validator ships no types: the part the tests use. */
declare module 'asl-validator' {
  interface Result {
    readonly isValid: boolean;
    readonly errors: unknown[];
    errorsText(separator?: string): string;
  }
  export default function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): Result;
}
