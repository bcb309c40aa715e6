'use client';
/**
 * The error boundary of a route segment with an `error.tsx` (and of the root layout with
 * `global-error.tsx`): a React error boundary around the segment's children that shows the
 * segment's error component with `{ error, reset }` when a component below throws in the browser;
 * `reset()` renders the children again.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/error
 */

import { Component, type ComponentType, createElement, type ReactNode } from 'react';

export interface SegmentErrorProps {
  error: Error & { digest?: string };
  reset: () => void;
}

interface Props {
  /** The segment's `error.tsx` (or `global-error.tsx`) default export, a client component. */
  errorComponent: ComponentType<SegmentErrorProps>;
  children?: ReactNode;
}

export class SegmentErrorBoundary extends Component<Props, { error: (Error & { digest?: string }) | undefined }> {
  override state: { error: (Error & { digest?: string }) | undefined } = { error: undefined };

  static getDerivedStateFromError(error: unknown): { error: Error & { digest?: string } } {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  private readonly reset = () => this.setState({ error: undefined });

  override render(): ReactNode {
    if (this.state.error === undefined) return this.props.children;
    return createElement(this.props.errorComponent, { error: this.state.error, reset: this.reset });
  }
}
