/// The "Perhaps you meant …" of PostgREST's `PGRST202` for a function name it does not know:
/// the closest known name, or none when nothing is close.
///
/// As PostgREST does it (a fuzzy set of 2- and 3-grams, then Levenshtein): the candidates are the
/// names sharing at least one 2- or 3-gram with the requested one, scored by
/// `1 − distance / longer length`; the best scoring at least 1/3 wins, ties going to the name
/// first in alphabetical order.
enum FunctionNameSuggestion {
    /// The lowest score that still counts as close (PostgREST's fuzzy set's default).
    static let minimumScore = 0.33

    /// The name of `known` closest to `name`, if any is close enough.
    static func closest(to name: String, among known: some Sequence<String>) -> String? {
        let requested = Array(name.lowercased().unicodeScalars)
        let requestedGrams = grams(of: requested)
        var best: (score: Double, name: String)?
        for candidate in known {
            let scalars = Array(candidate.lowercased().unicodeScalars)
            guard !requestedGrams.isDisjoint(with: grams(of: scalars)) else { continue }
            let score = 1 - Double(distance(requested, scalars)) / Double(max(requested.count, scalars.count, 1))
            guard score >= minimumScore else { continue }
            if best.map({ score > $0.score || (score == $0.score && candidate < $0.name) }) ?? true {
                best = (score, candidate)
            }
        }
        return best?.name
    }

    /// The 2- and 3-grams of `scalars`, padded with `-` at both ends as a fuzzy set pads them.
    private static func grams(of scalars: [Unicode.Scalar]) -> Set<[Unicode.Scalar]> {
        let padded = ["-"] + scalars + ["-"]
        var result: Set<[Unicode.Scalar]> = []
        for size in 2...3 where padded.count >= size {
            for start in 0...(padded.count - size) {
                result.insert(Array(padded[start..<start + size]))
            }
        }
        return result
    }

    /// The Levenshtein distance between `a` and `b`.
    private static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
