// The runs table's state in the address, so that a link shows the same table.

import { STATISTICS, type Statistic } from "./table";

export interface TableState {
  filter: string;
  /** Key of the sorted column; "" for the store's order (newest first). */
  sort: string;
  descending: boolean;
  statistic: Statistic;
  /** Keys of the parameter and metric columns shown, in the user's choice; null until the
   *  user chooses (then the first of each are shown, see `shownColumns`). */
  columns: string[] | null;
}

export function readTableState(search: string): TableState {
  const params = new URLSearchParams(search);
  const statistic = params.get("stat") ?? "last";
  const chosen = params.getAll("col");
  return {
    filter: params.get("filter") ?? "",
    sort: params.get("sort") ?? "",
    descending: params.get("desc") === "1",
    statistic: (STATISTICS as string[]).includes(statistic) ? (statistic as Statistic) : "last",
    // `col=` alone keeps "none chosen" apart from "not chosen yet".
    columns: params.has("col") ? chosen.filter((key) => key !== "") : null,
  };
}

export function writeTableState(state: TableState): string {
  const params = new URLSearchParams();
  if (state.filter) params.set("filter", state.filter);
  if (state.sort) params.set("sort", state.sort);
  if (state.sort && state.descending) params.set("desc", "1");
  if (state.statistic !== "last") params.set("stat", state.statistic);
  if (state.columns !== null) {
    if (state.columns.length === 0) params.append("col", "");
    for (const key of state.columns) params.append("col", key);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
