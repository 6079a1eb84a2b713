// The runs table's state in the address, so that a link shows the same table.

import { STATISTICS, type Statistic } from "./table";

export interface TableState {
  filter: string;
  /** Key of the sorted column; "" for the store's order (newest first). */
  sort: string;
  descending: boolean;
  statistic: Statistic;
}

export function readTableState(search: string): TableState {
  const params = new URLSearchParams(search);
  const statistic = params.get("stat") ?? "last";
  return {
    filter: params.get("filter") ?? "",
    sort: params.get("sort") ?? "",
    descending: params.get("desc") === "1",
    statistic: (STATISTICS as string[]).includes(statistic) ? (statistic as Statistic) : "last",
  };
}

export function writeTableState(state: TableState): string {
  const params = new URLSearchParams();
  if (state.filter) params.set("filter", state.filter);
  if (state.sort) params.set("sort", state.sort);
  if (state.sort && state.descending) params.set("desc", "1");
  if (state.statistic !== "last") params.set("stat", state.statistic);
  const text = params.toString();
  return text ? `?${text}` : "";
}
