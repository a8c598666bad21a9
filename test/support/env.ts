/** A variable the test sets for a config file it loads in a child process; `file` names that file in the error. */
export function requiredEnv(name: string, file: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${file}: ${name} is not set`);
  return value;
}
