/**
 * Command-line parsing for `switchyard`: a command word and `-c/--config`, `--log-level`,
 * `--port`, `--admin-port` flags. Must never: do anything but parse.
 */
export interface CliArgs {
  command: string;
  config?: string;
  logLevel?: string;
  port?: number;
  adminPort?: number;
  help: boolean;
}

export const USAGE = `usage:
  switchyard run -c <config.yaml|json>     serve; SIGHUP or a change of the file reloads; SIGTERM drains
  switchyard validate -c <config>          exit 0, or 1 with every error and its path
  switchyard demo [--port N] [--admin-port N]
                                           the proxy with built-in sample backends; prints what to try
options:
  -c, --config <file>   config file (YAML or JSON)
  --log-level <level>   debug | info | warn | error (overrides the config)
  -h, --help            this text`;

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: '', help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const port = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${a}: "${v}" is not a port`);
      return n;
    };
    if (a === '-c' || a === '--config') out.config = value();
    else if (a.startsWith('--config=')) out.config = a.slice(9);
    else if (a === '--log-level') out.logLevel = value();
    else if (a === '--port') out.port = port();
    else if (a === '--admin-port') out.adminPort = port();
    else if (a === '-h' || a === '--help') out.help = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (out.command === '') out.command = a;
    else throw new Error(`unexpected argument "${a}"`);
  }
  return out;
}
