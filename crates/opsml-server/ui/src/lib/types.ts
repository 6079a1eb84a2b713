// The shapes of the server's answers that the pages read (see the server's OpenAPI document).

/** A float as JSON carries it: NaN and the infinities as strings, a missing value as null. */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity" | null;

export type Status = "running" | "completed" | "failed" | "killed";

export interface CardRecord {
  uid: string;
  space: string;
  name: string;
  version: string;
  tags: string[];
  status: Status;
  created_at: string;
  ended_at: string | null;
  parent_uid: string | null;
  username: string;
}

/** A metric's statistics, a cell per run; only those asked for (`stat=`) are sent. */
export interface SummaryColumns {
  last?: JsonFloat[];
  min?: JsonFloat[];
  max?: JsonFloat[];
  mean?: JsonFloat[];
  last_step?: (number | null)[];
  count?: (number | null)[];
}

/** `GET /api/v1/runs`: a cell per run in every column, in the order of `runs`. */
export interface RunTable {
  runs: CardRecord[];
  parameters: Record<string, (number | string | boolean | null)[]>;
  metrics: Record<string, SummaryColumns>;
}

/** `GET /api/v1/experiments/{uid}/series`. */
export interface SeriesPoints {
  name: string;
  total: number;
  downsampled: boolean;
  /** NaN and infinite points in the range asked for (kept as gaps even when downsampled). */
  nan: number;
  infinite: number;
  steps: (number | null)[];
  values: JsonFloat[];
  /** Microseconds since the Unix epoch. */
  times: number[];
}

export interface Session {
  username: string;
  admin: boolean;
  csrf_token: string;
  local: boolean;
}

export interface ParameterValue {
  type: "int" | "float" | "str" | "bool";
  value: number | string | boolean;
}

export interface Parameter {
  name: string;
  value: ParameterValue;
}

export interface MetricSummary {
  name: string;
  count: number;
  value_count: number;
  sum: JsonFloat;
  min: JsonFloat;
  max: JsonFloat;
  first: JsonFloat;
  first_step: number | null;
  last: JsonFloat;
  last_step: number | null;
}

export interface GitInfo {
  commit: string;
  branch: string | null;
  dirty: boolean;
  remote_url: string | null;
}

/** `GET /api/v1/experiments/{uid}`: the card's fields and more (environment, metadata). */
export interface ExperimentCard extends CardRecord {
  metadata?: {
    git?: GitInfo | null;
    /** What the run is for, in its author's words. */
    description?: string | null;
    /** Final evaluation results by name (NaN and the infinities as strings). */
    eval_metrics?: Record<string, JsonFloat>;
  };
  [field: string]: unknown;
}

export interface GpuSample {
  index: number;
  name: string;
  utilization_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
}

export interface IoSample {
  read_bytes_per_second: number;
  write_bytes_per_second: number;
}

/** `GET /api/v1/experiments/{uid}/hardware`: one sample of the run's hardware. */
export interface HardwareSample {
  /** Microseconds since the Unix epoch. */
  timestamp: number;
  cpu_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  process: { cpu_percent: number; rss_bytes: number; threads: number; processes: number } | null;
  disk: IoSample | null;
  network: IoSample | null;
  gpus: GpuSample[];
}

export interface ArtifactRecord {
  path: string;
  size: number;
  media_type: string;
  created_at: string;
}
