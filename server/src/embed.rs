//! The built-in offline embedding, model name `aerostack-local/hashed-ngram-384`.
//!
//! It is feature hashing, not a neural model: the text is lowercased and split into words (runs
//! of letters/digits); every word unigram (weight 1.0) and every character 3-gram of the word
//! padded with boundary marks (`^word$`, weight 0.5) is hashed with 64-bit FNV-1a into one of 384
//! dimensions, with a sign taken from the hash's top bit; the sum is L2-normalised. Texts that
//! share words or word fragments get a high cosine similarity, so keyword-ish semantic search
//! works offline and deterministically; synonyms without shared fragments do not match.

pub const MODEL: &str = "aerostack-local/hashed-ngram-384";
pub const DIMS: usize = 384;

const WORD_WEIGHT: f32 = 1.0;
const TRIGRAM_WEIGHT: f32 = 0.5;

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn add(v: &mut [f32], h: u64, weight: f32) {
    let idx = (h % DIMS as u64) as usize;
    let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
    v[idx] += sign * weight;
}

/// The embedding of `text`, or `None` when it has no letters or digits.
pub fn embed(text: &str) -> Option<Vec<f32>> {
    let lower = text.to_lowercase();
    let mut v = vec![0f32; DIMS];
    let mut any = false;
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        any = true;
        add(&mut v, fnv1a(&[b"w:", word.as_bytes()]), WORD_WEIGHT);
        let chars: Vec<char> = std::iter::once('^')
            .chain(word.chars())
            .chain(std::iter::once('$'))
            .collect();
        let mut buf = [0u8; 12];
        for tri in chars.windows(3) {
            let mut n = 0;
            for c in tri {
                n += c.encode_utf8(&mut buf[n..]).len();
            }
            add(&mut v, fnv1a(&[b"t:", &buf[..n]]), TRIGRAM_WEIGHT);
        }
    }
    if !any {
        return None;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    Some(v)
}

/// Cosine similarity of two L2-normalised vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn from_bytes(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_score_higher() {
        let q = embed("red running shoes").unwrap();
        let a = embed("Running shoes in red, size 42").unwrap();
        let b = embed("Quarterly tax report").unwrap();
        assert!(cosine(&q, &a) > cosine(&q, &b) + 0.3);
        assert!((cosine(&q, &q) - 1.0).abs() < 1e-5);
        assert_eq!(embed("!!!"), None);
        assert_eq!(from_bytes(&to_bytes(&q)), q);
        assert_eq!(q.len(), DIMS);
    }
}
