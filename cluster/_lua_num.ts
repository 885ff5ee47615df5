// Lua helpers shared by the shared-state scripts: values are stored with
// _codec.ts's encoding; numbers as "j<JSON number>".
export const _NUM = `
local function num(text, fallback)
  if not text then return fallback end
  if string.sub(text, 1, 1) ~= 'j' then return nil end
  return tonumber(string.sub(text, 2))
end
local function enc(n)
  if n == math.floor(n) and math.abs(n) < 1e15 then return 'j' .. string.format('%d', n) end
  return 'j' .. string.format('%.17g', n)
end
`;
