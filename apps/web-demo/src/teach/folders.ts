// Images from what users drop: files, a folder of images, or a folder of
// class folders (ImageFolder layout: one subfolder per class).

/** What a file of this name and type is taken as: an image to train on, or something to skip (and say so). */
export function isImageFile(file: File): boolean {
  return file.type.startsWith('image/') || /\.(png|jpe?g|webp|gif|bmp)$/i.test(file.name);
}

export interface DroppedFolder {
  /** The folder's name ('' for loose files). */
  name: string;
  files: File[];
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call; call until it returns none.
  return new Promise((resolve, reject) => {
    const more = (): void =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        more();
      }, reject);
    more();
  });
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every file under a folder, any depth. */
async function filesUnder(dir: FileSystemDirectoryEntry): Promise<File[]> {
  const out: File[] = [];
  for (const entry of await readEntries(dir)) {
    if (entry.isFile) out.push(await fileOf(entry as FileSystemFileEntry));
    else if (entry.isDirectory) out.push(...(await filesUnder(entry as FileSystemDirectoryEntry)));
  }
  return out;
}

/**
 * The dropped items as folders: each dropped folder with its files; a single
 * dropped folder that holds only folders is opened, so that its subfolders
 * (class folders) come back one by one. Loose files come back as one folder named ''.
 */
export async function droppedFolders(items: DataTransferItemList): Promise<DroppedFolder[]> {
  const entries = [...items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const loose: File[] = [];
  let dirs: FileSystemDirectoryEntry[] = [];
  for (const e of entries) {
    if (e.isDirectory) dirs.push(e as FileSystemDirectoryEntry);
    else if (e.isFile) loose.push(await fileOf(e as FileSystemFileEntry));
  }
  if (dirs.length === 1 && loose.length === 0) {
    const inside = await readEntries(dirs[0]!);
    if (inside.length > 0 && inside.every((e) => e.isDirectory)) dirs = inside as FileSystemDirectoryEntry[];
  }
  const folders: DroppedFolder[] = [];
  for (const d of dirs) folders.push({ name: d.name, files: await filesUnder(d) });
  if (loose.length) folders.push({ name: '', files: loose });
  return folders;
}
