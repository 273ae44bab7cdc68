// Reader preferences in the send ledger's choice of readers (issue 14): a
// reader who picked editions gets only those, and a paused reader nothing
// before their resume day. Edition ids are "<edition name>-<yyyy-mm-dd>"
// (src/edition/select.ts), so a name matches its own ids and not "daily_en"'s.

/** SQL for `AND …` on subscribers aliased b; bind wantsEditionArgs() after the statement's earlier parameters. */
export const WANTS_EDITION = `AND (b.paused_until IS NULL OR b.paused_until <= ?)
  AND (b.editions IS NULL OR EXISTS (SELECT 1 FROM json_each(b.editions) j WHERE substr(?, 1, length(j.value) + 1) = j.value || '-'))`;

export const wantsEditionArgs = (editionId: string, now: Date) => [now.toISOString().slice(0, 10), editionId];
