# SPDX-License-Identifier: Apache-2.0
# bash completion for tdcpuid-agent, tdcpuid-verifier and tdcpuid-conform
# (installed once per name in <datadir>/bash-completion/completions).
# Subcommands, options and their fixed choices are read from the tools' own
# --help, so completion never drifts from the code; model names come from
# the data directory the command line would use (tdcpuid/datadir.h).

# Long options named in a help text (stdin).
_tdcpuid_opts()
{
	grep -oE -- '(^|[][ ,|])--[a-z0-9][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+' | sort -u
}

# Fixed choices of option $1 in a help text (stdin): "--format text|json".
_tdcpuid_choices()
{
	sed -nE "s/.*$1[ =]([a-z0-9.-]+(\|[a-z0-9.-]+)+).*/\1/p" | head -n 1 | tr '|' ' '
}

# The data directory: --datadir on the line, else $TDCPUID_DATADIR, else the
# configured one the verifier's usage names.
_tdcpuid_datadir()
{
	local i verifier
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--datadir) echo "${COMP_WORDS[i + 1]}"; return ;;
		--datadir=*) echo "${COMP_WORDS[i]#--datadir=}"; return ;;
		esac
	done
	if [ -n "${TDCPUID_DATADIR:-}" ]; then
		echo "$TDCPUID_DATADIR"
		return
	fi
	verifier=$(dirname -- "$(type -P -- "$1" || echo "$1")")/tdcpuid-verifier
	[ -x "$verifier" ] || verifier=tdcpuid-verifier
	"$verifier" --help 2>/dev/null | sed -n 's/^Data .*, else \(\/.*\)\.$/\1/p'
}

# Model names: models/*.json in the data directory, and "tdx".
_tdcpuid_models()
{
	local f dir
	dir=$(_tdcpuid_datadir "$1")/models
	echo tdx
	for f in "$dir"/*.json; do
		[ -e "$f" ] || continue
		f=${f##*/}
		[ "$f" = tdx-releases.json ] || echo "${f%.json}"
	done
}

_tdcpuid()
{
	local tool=$1 cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local sub= i help choices
	COMPREPLY=()
	# agent and verifier: [--datadir DIR] <subcommand> [options]
	if [ "${tool##*/}" != tdcpuid-conform ]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--datadir) ((i++)) ;;
			-*) ;;
			*) sub=${COMP_WORDS[i]}; break ;;
			esac
		done
		if [ -z "$sub" ]; then
			if [ "$prev" = --datadir ]; then
				COMPREPLY=($(compgen -d -- "$cur"))
				return
			fi
			COMPREPLY=($(compgen -W "$("$tool" --help 2>/dev/null |
				sed -n '/^Available subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
				--datadir --help --version" -- "$cur"))
			return
		fi
	fi
	help=$("$tool" ${sub:+"$sub"} --help 2>/dev/null)
	case $prev in
	--datadir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--model|-m)
		COMPREPLY=($(compgen -W "$(_tdcpuid_models "$tool")" -- "$cur") $(compgen -f -- "$cur"))
		return ;;
	-*)
		choices=$(_tdcpuid_choices "$prev" <<<"$help")
		if [ -n "$choices" ]; then
			COMPREPLY=($(compgen -W "$choices" -- "$cur"))
			return
		fi
		# An option with a metavariable ("--evidence FILE") takes a path.
		if grep -qE -- "(^|[][ ,])$prev[ =][A-Z]" <<<"$help"; then
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi ;;
	esac
	if [[ $cur == -* ]]; then
		# Every tool and subcommand takes --help, even when it lists nothing else.
		COMPREPLY=($(compgen -W "$(_tdcpuid_opts <<<"$help") --help" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _tdcpuid tdcpuid-agent tdcpuid-verifier tdcpuid-conform
