// Drafts: the study being written is kept in localStorage as the researcher types, so a crash
// or a closed window loses no work; the Builder restores it when it opens.

export const DRAFT_KEY = 'cogflow.builder.draft.v1';

export function loadDraft(storage = globalThis.localStorage) {
  try {
    const raw = storage.getItem(DRAFT_KEY);
    if (!raw) return null;
    const draft = JSON.parse(raw);
    if (!draft || typeof draft !== 'object' || !draft.config || !Array.isArray(draft.config.timeline)) return null;
    return draft;
  } catch {
    return null; // storage blocked or a damaged draft: start fresh rather than fail to open
  }
}

/** Returns true when stored; false when storage refused (full or blocked). */
export function saveDraft(state, storage = globalThis.localStorage) {
  try {
    storage.setItem(DRAFT_KEY, JSON.stringify({
      study: state.study, config: state.config, selected: state.selected, saved_at: new Date().toISOString(),
    }));
    return true;
  } catch {
    return false;
  }
}
