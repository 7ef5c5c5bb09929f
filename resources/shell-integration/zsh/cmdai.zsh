# cmdai shell integration for zsh: OSC 133 prompt/command markers, OSC 633;E command line, OSC 7 cwd.
if [[ -o interactive ]] && [[ -z "${__cmdai_loaded-}" ]]; then
  typeset -g __cmdai_loaded=1
  typeset -g __cmdai_nonce="${CMDAI_NONCE-}"
  unset CMDAI_NONCE
  typeset -g __cmdai_running=0

  __cmdai_escape() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//;/\\x3b}"
    s="${s//$'\n'/\\x0a}"
    s="${s//$'\r'/\\x0d}"
    s="${s//$'\e'/\\x1b}"
    s="${s//$'\a'/\\x07}"
    builtin print -rn -- "$s"
  }

  __cmdai_precmd() {
    local ec=$?
    if (( __cmdai_running )); then
      builtin printf '\e]133;D;%s\a' "$ec"
      __cmdai_running=0
    fi
    local p="${PWD//\%/%25}"
    p="${p// /%20}"
    builtin printf '\e]7;file://%s%s\a' "${HOST-}" "$p"
    if [[ "$PS1" != *'133;A'* ]]; then
      PS1=$'%{\e]133;A\a%}'"$PS1"$'%{\e]133;B\a%}'
    fi
    return $ec
  }

  __cmdai_preexec() {
    builtin printf '\e]633;E;%s;%s\a\e]133;C\a' "$(__cmdai_escape "$1")" "$__cmdai_nonce"
    __cmdai_running=1
  }

  # Ours first, so it sees the command's exit status before other hooks change $?.
  typeset -ga precmd_functions preexec_functions
  precmd_functions=(__cmdai_precmd ${precmd_functions[@]})
  preexec_functions+=(__cmdai_preexec)
fi
