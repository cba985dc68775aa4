import type { Annotations } from '../store/models.js';

/**
 * The fnts annotations that keep a function warm. They are read from the fn's own annotations (not its app's), and
 * validated on every write of the fn, so the agent may trust what the store holds.
 */
export const MIN_CONTAINERS_ANNOTATION = 'fnts.io/min-containers';
export const WARM_ON_DEPLOY_ANNOTATION = 'fnts.io/warm-on-deploy';

/** An annotation value as a whole number: the JSON number 2 or the string "2"; anything else is undefined. */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  return undefined;
}

/** Annotation values are strings, numbers, objects or arrays (Fn's rule): a flag is the string "true" or "false". */
function flagValue(value: unknown): boolean | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** What is wrong with a fn's warm annotations, given the most containers it may have; undefined when nothing is. */
export function warmAnnotationProblem(annotations: Annotations, maxContainers: number): string | undefined {
  const min = annotations[MIN_CONTAINERS_ANNOTATION];
  if (min !== undefined) {
    const n = wholeNumber(min);
    if (n === undefined || n < 0 || n > maxContainers) {
      return `${MIN_CONTAINERS_ANNOTATION} must be a whole number from 0 to ${maxContainers} (the fn's max_containers), not ${JSON.stringify(min)}`;
    }
  }
  const warm = annotations[WARM_ON_DEPLOY_ANNOTATION];
  if (warm !== undefined && flagValue(warm) === undefined) {
    return `${WARM_ON_DEPLOY_ANNOTATION} must be true or false, not ${JSON.stringify(warm)}`;
  }
  return undefined;
}

/** Hot containers the fn asks to keep (0 when unset; a stored value is valid, see warmAnnotationProblem). */
export function minContainersOf(annotations: Annotations): number {
  return wholeNumber(annotations[MIN_CONTAINERS_ANNOTATION]) ?? 0;
}

/** Whether a deploy of this fn starts its first container at once: the fn's annotation, else the server's setting. */
export function warmOnDeployOf(annotations: Annotations, serverDefault: boolean): boolean {
  return flagValue(annotations[WARM_ON_DEPLOY_ANNOTATION]) ?? serverDefault;
}
