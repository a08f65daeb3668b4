# Sourced first by every bench/*.sh: -h or --help prints the script's header
# comment (its usage) and exits, before anything is built or run.
case "${1:-}" in
  -h | --help) sed -n '2,/^[^#]/ s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
