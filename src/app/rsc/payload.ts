/**
 * The root model of every RSC payload isr renders (the convention of `@vitejs/plugin-rsc`'s
 * examples): the page's tree, plus a Server Action's return value (a call from JavaScript) or
 * the form state of a form posted without JavaScript (`useActionState`).
 */

import type { ReactNode } from 'react';
import type { ReactFormState } from 'react-dom/client';

export interface RscPayload {
  /** The page inside its layouts (`<html>` and all); absent when an action's page redirected. */
  root?: ReactNode;
  /** What the called Server Action returned (a call through `setServerCallback`). */
  returnValue?: unknown;
  /** React's state of the form posted without JavaScript, for `useActionState` to resume from. */
  formState?: ReactFormState;
}
