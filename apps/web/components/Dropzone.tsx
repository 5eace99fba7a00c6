'use client';
/** A drop area with a file picker fallback; hands the dropped files (and folder paths, when asked) to `onFiles`. */
import { useRef, useState, type ReactNode } from 'react';

export interface DropzoneProps {
  onFiles: (files: File[], dt: DataTransfer | null) => void;
  /** Pick folders (`webkitdirectory`) instead of files. */
  directory?: boolean;
  accept?: string;
  testId?: string;
  children: ReactNode;
}

export function Dropzone({ onFiles, directory, accept, testId, children }: DropzoneProps) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const dirProps = directory ? ({ webkitdirectory: '', directory: '' } as Record<string, string>) : {};
  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        onFiles(Array.from(e.dataTransfer.files), e.dataTransfer);
      }}
    >
      {children}
      <p>
        <button type="button" onClick={() => input.current?.click()}>
          {directory ? 'Choose a folder…' : 'Choose images…'}
        </button>
      </p>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        accept={accept}
        data-testid={testId}
        {...dirProps}
        onChange={(e) => {
          onFiles(Array.from(e.target.files ?? []), null);
          e.target.value = '';
        }}
      />
    </div>
  );
}
