import { UsageError } from "../util/errors.ts";

export interface ConfigErrorInit {
  file: string;
  line: number;
  col: number;
  keyPath: string;
  text: string; // everything after "file:line:col: "
}

/** A config mistake at a known place in a YAML file: `file:line:col: what is wrong`. */
export class ConfigError extends UsageError {
  override name = "ConfigError";
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly keyPath: string;

  constructor(init: ConfigErrorInit) {
    super(`${init.file}:${init.line}:${init.col}: ${init.text}`);
    this.file = init.file;
    this.line = init.line;
    this.col = init.col;
    this.keyPath = init.keyPath;
  }
}
