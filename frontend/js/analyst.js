export async function mount(root){root.textContent='…';}
